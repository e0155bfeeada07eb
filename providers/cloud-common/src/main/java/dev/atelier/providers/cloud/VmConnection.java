package dev.atelier.providers.cloud;

import java.util.LinkedHashMap;
import java.util.Map;

/** The connection info of a running VM workspace, the same keys on every cloud; providers add their own after. */
public final class VmConnection {

    /** Where sshd listens unless the template's {@code sshPort} says otherwise. */
    public static final int DEFAULT_SSH_PORT = 22;

    private VmConnection() {
    }

    /**
     * {@code type=ssh}, and {@code sshHost} (the public address, else the private one), {@code sshPort} (the template's),
     * {@code sshUser}, {@code publicIp}, {@code privateIp} as far as the VM has addresses. Blank addresses count as
     * none.
     */
    public static Map<String, String> ssh(String publicIp, String privateIp, String sshUser, int sshPort) {
        String publicAddress = publicIp == null || publicIp.isBlank() ? null : publicIp;
        String privateAddress = privateIp == null || privateIp.isBlank() ? null : privateIp;
        Map<String, String> c = new LinkedHashMap<>();
        String host = publicAddress != null ? publicAddress : privateAddress;
        c.put("type", "ssh");
        if (host != null) {
            c.put("sshHost", host);
            c.put("sshPort", Integer.toString(sshPort));
            c.put("sshUser", sshUser);
        }
        if (publicAddress != null) {
            c.put("publicIp", publicAddress);
        }
        if (privateAddress != null) {
            c.put("privateIp", privateAddress);
        }
        return c;
    }
}
