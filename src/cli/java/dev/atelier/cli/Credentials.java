package dev.atelier.cli;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;

/**
 * What {@code atelier login} saved in {@code ~/.config/atelier/credentials}: the engine's URL and a bearer token (an
 * API token, or an access token of the identity provider with what is needed to refresh it). The file is created with
 * mode 0600 in a 0700 directory and replaced atomically, so a token is never readable by others, not even briefly.
 *
 * @param kind         {@code token} (an API token) or {@code oidc} (device flow)
 * @param expiresAt    when an OIDC access token expires, ISO-8601 (null for API tokens)
 * @param refreshToken the OIDC refresh token, if the provider gave one
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Credentials(String url, String kind, String token, String expiresAt, String refreshToken,
                          String tokenEndpoint, String clientId) {

    static final String FILE = "credentials";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Never the token: records are printed in stack traces and debuggers. */
    @Override
    public String toString() {
        return "Credentials[url=" + url + ", kind=" + kind + "]";
    }

    public static Credentials apiToken(String url, String token) {
        return new Credentials(url, "token", token, null, null, null, null);
    }

    public static Optional<Credentials> load(CliEnvironment env) {
        Path file = env.configDir().resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(Files.readString(file), Credentials.class));
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, "cannot read " + file + " (" + e.getClass().getSimpleName()
                    + "); run 'atelier login' again");
        }
    }

    public void save(CliEnvironment env) {
        Path dir = env.configDir();
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Path temp = dir.resolve(FILE + ".tmp");
            Files.deleteIfExists(temp);
            Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(temp, JSON.writeValueAsString(this), StandardCharsets.UTF_8);
            Files.move(temp, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            throw new CliException(ExitCodes.ERROR, "cannot save credentials: " + e.getFile() + " appeared meanwhile");
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, "cannot save credentials in " + dir + ": " + e.getMessage());
        }
    }

    /** Forgets the saved credentials; true when there were any. */
    public static boolean delete(CliEnvironment env) {
        try {
            return Files.deleteIfExists(env.configDir().resolve(FILE));
        } catch (IOException e) {
            throw new CliException(ExitCodes.ERROR, "cannot delete " + env.configDir().resolve(FILE) + ": " + e.getMessage());
        }
    }

    boolean expired(Instant now) {
        return expiresAt != null && !now.isBefore(Instant.parse(expiresAt).minusSeconds(30));
    }
}
