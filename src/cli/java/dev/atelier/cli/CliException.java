package dev.atelier.cli;

/**
 * A failure the user is told about in one line ({@code error: <message>}) with a documented exit code; never carries
 * a token or other secret in its message.
 */
public class CliException extends RuntimeException {

    private final int exitCode;

    public CliException(int exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() {
        return exitCode;
    }
}
