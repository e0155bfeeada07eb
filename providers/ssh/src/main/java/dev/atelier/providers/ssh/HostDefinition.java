package dev.atelier.providers.ssh;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** What an owner registers about a host, checked field by field with messages that name the field. */
public record HostDefinition(String name, String address, int port, String user, String keyRef,
                             String hostKeyFingerprint, int capacity, Map<String, String> labels, String directory) {

    static final String DEFAULT_DIRECTORY = "atelier-workspaces";
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})?");
    private static final Pattern USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    static final Pattern KEY_REF = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    static final Pattern FINGERPRINT = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}");
    static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?");
    static final Pattern LABEL_VALUE = Pattern.compile("[A-Za-z0-9._-]{0,63}");
    private static final Pattern DIRECTORY = Pattern.compile("[A-Za-z0-9._/-]{1,200}");

    /** The definition with defaults applied, or the problems with it. */
    record Checked(HostDefinition definition, List<String> problems) {
    }

    static Checked check(String name, String address, Integer port, String user, String keyRef,
                         String hostKeyFingerprint, Integer capacity, Map<String, String> labels, String directory) {
        List<String> problems = new ArrayList<>();
        if (name == null || !NAME.matcher(name).matches()) {
            problems.add("name: lower-case letters, digits and '-', up to 63 characters, such as gpu-box-1");
        }
        if (address == null || !ADDRESS.matcher(address).matches()) {
            problems.add("address: a host name or IP address, such as build1.internal or 10.0.0.7");
        }
        int p = port == null ? 22 : port;
        if (p < 1 || p > 65535) {
            problems.add("port: between 1 and 65535 (default 22)");
        }
        if (user == null || !USER.matcher(user).matches()) {
            problems.add("user: the Unix user the engine logs in as, such as atelier");
        }
        if (keyRef == null || !KEY_REF.matcher(keyRef).matches()) {
            problems.add("keyRef: the file name of the engine's private key for this host in the engine's key "
                    + "directory (letters, digits, '._-')");
        }
        if (hostKeyFingerprint == null || hostKeyFingerprint.isBlank()) {
            problems.add("hostKeyFingerprint: required; the host's SHA256 key fingerprint, as printed on the host by "
                    + "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub (keys are never trusted on first use)");
        } else if (!FINGERPRINT.matcher(hostKeyFingerprint).matches()) {
            problems.add("hostKeyFingerprint: must look like SHA256:<43 base64 characters>, as printed by ssh-keygen -l");
        }
        if (capacity == null || capacity < 0 || capacity > 100_000) {
            problems.add("capacity: required; how many workspaces may live on this host (0 to 100000)");
        }
        Map<String, String> l = labels == null ? Map.of() : labels;
        l.forEach((k, v) -> {
            if (k == null || !LABEL_KEY.matcher(k).matches()) {
                problems.add("labels: key '" + k + "' must be letters, digits and '._/-', up to 63 characters");
            } else if (v == null || !LABEL_VALUE.matcher(v).matches()) {
                problems.add("labels: value of '" + k + "' must be letters, digits and '._-', up to 63 characters");
            }
        });
        String dir = directory == null || directory.isBlank() ? DEFAULT_DIRECTORY : directory;
        if (!DIRECTORY.matcher(dir).matches() || dir.equals("/") || dir.contains("//")
                || List.of(dir.split("/")).stream().anyMatch(s -> s.equals("..") || s.equals("."))) {
            problems.add("directory: a path (letters, digits, '._/-', no '..') where workspace directories are made; "
                    + "relative to the user's home unless it starts with /");
        }
        if (!problems.isEmpty()) {
            return new Checked(null, List.copyOf(problems));
        }
        return new Checked(new HostDefinition(name, address, p, user, keyRef, hostKeyFingerprint, capacity,
                new LinkedHashMap<>(l), dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir), List.of());
    }
}
