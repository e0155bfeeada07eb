package dev.atelier.providers.cloud;

import dev.atelier.provider.ProviderException;
import dev.atelier.provider.ProvisionRequest;

import java.util.List;
import java.util.TreeMap;
import java.util.regex.Pattern;

import static dev.atelier.provider.ShellQuoting.quote;

/**
 * The cloud-init user data of a workspace VM: a shell script that cloud-init runs as root on the first boot. It
 * <ol>
 *   <li>installs a per-boot hook ({@code /var/lib/cloud/scripts/per-boot/atelier-workspace.sh}) that, on every later
 *       boot, reads the VM's <em>current</em> user data from the cloud's instance metadata service and runs it again:
 *       a start after a stop replaces the user data first, so the VM gets the agent (and agent token) of the new
 *       build and runs the start-up script again, as at every start of any workspace;</li>
 *   <li>optionally authorises an SSH public key for a user (clouds that have no API field for it);</li>
 *   <li>authorises the engine's gateway key ({@link dev.atelier.provider.WorkspaceAgent#gatewayKey}) for the
 *       workspace user, the user the connection info names, so that the SSH gateway can reach the VM's sshd;</li>
 *   <li>then is {@link dev.atelier.provider.WorkspaceAgent#cloudInitUserData}: the workspace agent, started in the
 *       background, followed by the template's start-up script with the workspace's environment.</li>
 * </ol>
 * Everything that comes from outside (parameter values, SSH key and user) is either single-quoted or checked
 * against a strict pattern first, and may not end a here-document early.
 */
public final class VmUserData {

    /** OpenSSH public key line: type, base64 body, optional comment without quotes or line breaks. */
    public static final Pattern SSH_PUBLIC_KEY = Pattern.compile("(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)"
            + "|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]{32,8192}={0,3}"
            + "( [A-Za-z0-9@._+:-]{1,100})?");
    public static final String SSH_PUBLIC_KEY_EXPECTATION = "an OpenSSH public key line such as 'ssh-ed25519 AAAA… you@host'";
    /** A Linux user name. */
    public static final Pattern SSH_USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");
    public static final String SSH_USER_EXPECTATION = "a Linux user name (lower-case letters, digits, '_', '-'; at most 32)";
    public static final String BOOT_HOOK = "/var/lib/cloud/scripts/per-boot/atelier-workspace.sh";

    private static final List<String> TERMINATORS = List.of("ATELIER_AGENT_EOF", "ATELIER_STARTUP_EOF", "ATELIER_BOOT_EOF");

    private VmUserData() {
    }

    /** @return why a start-up script cannot be embedded in user data, or {@code null} when it can */
    public static String scriptProblem(String script) {
        if (script == null) {
            return null;
        }
        for (String line : script.split("\n", -1)) {
            if (TERMINATORS.contains(line.strip())) {
                return "startupScript may not contain a line '" + line.strip() + "' (it ends Atelier's here-documents)";
            }
        }
        if (script.indexOf('\0') >= 0) {
            return "startupScript may not contain NUL characters";
        }
        return null;
    }

    /**
     * @param refetchCommand shell command that prints the VM's current user data from the instance metadata service
     * @param sshUser        with {@code sshPublicKey}: authorise the key for this user (created if missing); or null
     */
    public static String build(ProvisionRequest request, String startupScript, String refetchCommand,
                               String sshUser, String sshPublicKey) {
        return build(request, startupScript, refetchCommand, null, sshUser, sshPublicKey);
    }

    /**
     * @param workspaceUser the user the connection info names ({@code sshUser} of the connection): the agent's
     *                      gateway key is authorised for it; null: none is
     */
    public static String build(ProvisionRequest request, String startupScript, String refetchCommand,
                               String workspaceUser, String sshUser, String sshPublicKey) {
        if (request.agent() == null) {
            throw new IllegalArgumentException("a VM is only created or started with its workspace agent");
        }
        String problem = scriptProblem(startupScript);
        if (problem != null) {
            throw ProviderException.permanent(problem);
        }
        String script = startupScript == null || startupScript.isBlank() ? null : environment(request) + startupScript;
        String agentPart = request.agent().cloudInitUserData(script);
        int firstLine = agentPart.indexOf('\n') + 1;
        StringBuilder sh = new StringBuilder(agentPart.substring(0, firstLine));
        sh.append("# Atelier: at every later boot (a start after a stop), run the current user data again; it carries\n")
                .append("# the agent of the new build.\n")
                .append("mkdir -p /var/lib/cloud/scripts/per-boot\n")
                .append("cat > ").append(BOOT_HOOK).append(" <<'ATELIER_BOOT_EOF'\n")
                .append("#!/bin/sh\n")
                .append("umask 077\n")
                .append("if ( ").append(refetchCommand).append(" ) > /run/atelier-user-data.tmp; then\n")
                .append("  mv /run/atelier-user-data.tmp /run/atelier-user-data && exec sh /run/atelier-user-data\n")
                .append("fi\n")
                .append("echo 'atelier: could not read the user data from the instance metadata service' >&2\n")
                .append("exit 1\n")
                .append("ATELIER_BOOT_EOF\n")
                .append("chmod 700 ").append(BOOT_HOOK).append('\n');
        if (sshUser != null && sshPublicKey != null) {
            requireMatch(SSH_USER, sshUser, "sshUser");
            requireMatch(SSH_PUBLIC_KEY, sshPublicKey, "sshPublicKey");
            sh.append("# Atelier: the template's SSH key for ").append(sshUser).append('\n')
                    .append(authorize(sshUser, sshPublicKey));
        }
        if (workspaceUser != null && request.agent().gatewayKey() != null) {
            requireMatch(SSH_USER, workspaceUser, "sshUser");
            requireMatch(SSH_PUBLIC_KEY, request.agent().gatewayKey(), "the engine's gateway key");
            sh.append("# Atelier: the engine's gateway key for ").append(workspaceUser)
                    .append(" (the SSH gateway's hop into the workspace)\n")
                    .append(authorize(workspaceUser, "restrict,pty,port-forwarding " + request.agent().gatewayKey()));
        }
        sh.append(agentPart.substring(firstLine));
        return sh.toString();
    }

    /**
     * Shell lines that add the authorized_keys line to the user's file (the user made when missing), once: a boot
     * that runs the user data again does not add it twice.
     */
    private static String authorize(String user, String line) {
        return "u=" + quote(user) + "; k=" + quote(line) + "\n"
                + "id -u \"$u\" >/dev/null 2>&1 || useradd -m -s /bin/bash \"$u\"\n"
                + "h=$(getent passwd \"$u\" | cut -d: -f6)\n"
                + "install -d -m 700 -o \"$u\" -g \"$(id -gn \"$u\")\" \"$h/.ssh\"\n"
                + "grep -qxF \"$k\" \"$h/.ssh/authorized_keys\" 2>/dev/null || echo \"$k\" >> \"$h/.ssh/authorized_keys\"\n"
                + "chown \"$u\" \"$h/.ssh/authorized_keys\" && chmod 600 \"$h/.ssh/authorized_keys\"\n";
    }

    /** What the start-up script sees, as on every provider: workspace id, build, owner, ATELIER_PARAM_*. */
    static String environment(ProvisionRequest request) {
        StringBuilder env = new StringBuilder("# Atelier: the workspace's environment\n");
        env.append("export ATELIER_WORKSPACE_ID=").append(quote(request.workspaceId())).append('\n');
        env.append("export ATELIER_BUILD=").append(quote(Long.toString(request.buildNumber()))).append('\n');
        if (request.owner() != null) {
            env.append("export ATELIER_WORKSPACE_OWNER=").append(quote(checked("owner", request.owner()))).append('\n');
        }
        new TreeMap<>(request.parameters()).forEach((name, value) -> {
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]{0,62}")) {
                throw ProviderException.permanent("parameter name '" + SpecReader.printable(name)
                        + "' cannot be passed to the start-up script");
            }
            env.append("export ATELIER_PARAM_").append(name.toUpperCase()).append('=')
                    .append(quote(checked("parameter " + name, value))).append('\n');
        });
        return env.toString();
    }

    private static String checked(String what, String value) {
        if (value != null && value.chars().anyMatch(c -> c == '\n' || c == '\r' || c == 0)) {
            throw ProviderException.permanent(what + " contains a line break, which cannot be passed to the start-up "
                    + "script of a VM workspace");
        }
        return value == null ? "" : value;
    }

    private static void requireMatch(Pattern pattern, String value, String key) {
        if (!pattern.matcher(value).matches()) {
            throw ProviderException.permanent(key + " is invalid");
        }
    }


    /** Size in bytes as the cloud counts it (UTF-8, before any base64). */
    public static int bytes(String userData) {
        return userData.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /** The user data, if the cloud takes that much; else a permanent error that says what to shorten. */
    public static String atMost(String userData, int limit, String cloud) {
        if (bytes(userData) > limit) {
            throw ProviderException.permanent("the user data (agent and startupScript) is " + bytes(userData)
                    + " bytes, " + cloud + " allows " + limit + ": shorten startupScript");
        }
        return userData;
    }
}
