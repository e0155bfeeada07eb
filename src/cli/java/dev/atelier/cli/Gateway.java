package dev.atelier.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The engine's SSH gateway as ssh sees it: host, port and host keys ({@code GET /api/v1/ssh/host-keys}). Its keys go
 * into a known_hosts file of the CLI's own ({@code ~/.config/atelier/known_hosts}) under the alias
 * {@value #HOST_KEY_ALIAS}, so that ssh checks the gateway strictly without touching the user's known_hosts.
 */
record Gateway(String host, int port, List<String> hostKeys) {

    static final String HOST_KEY_ALIAS = "atelier-gateway";
    private static final Pattern KEY = Pattern.compile("(ssh|ecdsa|sk)-[a-z0-9@.-]+ [A-Za-z0-9+/]+={0,3}");
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9.-]{1,253}|\\[[0-9A-Fa-f:.]+]");

    /** {@code host:port} */
    String address() {
        return host + ":" + port;
    }

    /** {@code --gateway host:port}; the host defaults to the engine's. */
    static Gateway parse(String value, String defaultHost) {
        int colon = value.lastIndexOf(':');
        String host = colon <= 0 ? defaultHost : value.substring(0, colon);
        String port = colon < 0 ? value : value.substring(colon + 1);
        if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535
                || host == null || !HOST.matcher(host).matches()) {
            throw new CliException(ExitCodes.USAGE, "the gateway is host:port (a host name or address and a port 1-65535)");
        }
        return new Gateway(host, Integer.parseInt(port), List.of());
    }

    /**
     * The gateway from {@code GET /api/v1/ssh/host-keys}: its port and host keys; its host is the one the response
     * names, else the engine's. Keys are OpenSSH public key lines ({@code ssh-ed25519 AAAA...}), as strings or as
     * objects with {@code publicKey}.
     */
    static Gateway fetch(EngineClient engine) {
        JsonNode answer = engine.get("/api/v1/ssh/host-keys");
        int port = answer.path("port").asInt(answer.path("gatewayPort").asInt(0));
        if (port <= 0) {
            throw new CliException(ExitCodes.CONFLICT, "the engine's SSH gateway is off (atelier.ssh.gateway.port)");
        }
        String host = answer.hasNonNull("host") ? answer.path("host").asText() : engine.base().getHost();
        if (host.contains(":") && !host.startsWith("[")) {
            host = "[" + host + "]";
        }
        if (!HOST.matcher(host).matches()) {
            throw new CliException(ExitCodes.ERROR, "the engine named a gateway host that is no host name");
        }
        List<String> keys = new ArrayList<>();
        JsonNode list = answer.has("keys") ? answer.path("keys") : answer.path("hostKeys");
        for (JsonNode key : list) {
            String text = key.isTextual() ? key.asText()
                    : key.path("publicKey").asText(key.path("openssh").asText(key.path("key").asText("")));
            String[] parts = text.trim().split("\\s+");
            if (parts.length >= 2 && KEY.matcher(parts[0] + " " + parts[1]).matches()) {
                keys.add(parts[0] + " " + parts[1]);
            }
        }
        if (keys.isEmpty()) {
            throw new CliException(ExitCodes.ERROR, "the engine listed no SSH host keys of its gateway");
        }
        return new Gateway(host, port, List.copyOf(keys));
    }

    /** The known_hosts text for these keys, sorted (the same keys give the same bytes). */
    String knownHosts() {
        StringBuilder text = new StringBuilder("# The Atelier SSH gateway's host keys, written by atelier (GET /api/v1/ssh/host-keys)\n");
        hostKeys.stream().sorted().forEach(k -> text.append(HOST_KEY_ALIAS).append(' ').append(k).append('\n'));
        return text.toString();
    }

    /** Writes {@link #knownHosts()} to {@code file} unless it already holds exactly that. */
    void writeKnownHosts(Path file) {
        try {
            String text = knownHosts();
            if (Files.isRegularFile(file) && Files.readString(file, StandardCharsets.UTF_8).equals(text)) {
                return;
            }
            SshConfigFile.writeAtomically(file, text);
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, "cannot write " + file + ": " + e.getMessage());
        }
    }
}
