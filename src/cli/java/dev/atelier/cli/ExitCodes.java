package dev.atelier.cli;

/**
 * The exit codes of {@code atelier}, documented in docs/cli.md: scripts branch on them, so each API refusal has its
 * own code instead of a generic failure. {@code atelier ssh} and {@code port-forward} exit with the status of ssh.
 */
public final class ExitCodes {

    /** Done. */
    public static final int OK = 0;
    /** Anything not covered below (an unexpected answer, a local I/O error). */
    public static final int ERROR = 1;
    /** The command line was wrong (unknown option, missing argument, bad {@code --param}). picocli's own code. */
    public static final int USAGE = 2;
    /** Not signed in, or the engine refused the credentials (401). */
    public static final int UNAUTHENTICATED = 3;
    /** Signed in, but not allowed (403). */
    public static final int FORBIDDEN = 4;
    /** No such workspace, template or other resource (404), or none visible to you. */
    public static final int NOT_FOUND = 5;
    /** The resource is in the wrong state for this (409), e.g. starting a running workspace. */
    public static final int CONFLICT = 6;
    /** The engine refused the input (400, 422). */
    public static final int INVALID = 7;
    /** The engine could not be reached, was busy (429) or failed (5xx). Retrying later may help. */
    public static final int UNAVAILABLE = 8;
    /** Waiting for a status took longer than {@code --timeout}. The transition may still complete. */
    public static final int TIMEOUT = 9;
    /** The workspace ended in FAILED while the command waited for it. */
    public static final int FAILED = 10;

    private ExitCodes() {
    }

    /** The exit code for an HTTP status of a refused API call. */
    public static int forStatus(int status) {
        return switch (status) {
            case 400, 422 -> INVALID;
            case 401 -> UNAUTHENTICATED;
            case 403 -> FORBIDDEN;
            case 404 -> NOT_FOUND;
            case 409 -> CONFLICT;
            case 429 -> UNAVAILABLE;
            default -> status >= 500 ? UNAVAILABLE : ERROR;
        };
    }
}
