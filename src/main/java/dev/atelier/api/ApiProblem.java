package dev.atelier.api;

import org.springframework.http.HttpStatus;

/** An error the API answers with problem+json and this status and detail. */
public class ApiProblem extends RuntimeException {

    private final HttpStatus status;
    private final boolean concealed;

    public ApiProblem(HttpStatus status, String detail) {
        this(status, detail, false);
    }

    private ApiProblem(HttpStatus status, String detail, boolean concealed) {
        super(detail);
        this.status = status;
        this.concealed = concealed;
    }

    public HttpStatus status() {
        return status;
    }

    /** A resource exists but the caller may not see it: answered exactly like one that does not exist. */
    public boolean concealed() {
        return concealed;
    }

    /** The same 404 as {@link #notFound}, recorded in the audit trail as a denial. */
    public static ApiProblem concealedNotFound(String detail) {
        return new ApiProblem(HttpStatus.NOT_FOUND, detail, true);
    }

    public static ApiProblem notFound(String detail) {
        return new ApiProblem(HttpStatus.NOT_FOUND, detail);
    }

    public static ApiProblem forbidden(String detail) {
        return new ApiProblem(HttpStatus.FORBIDDEN, detail);
    }

    public static ApiProblem badRequest(String detail) {
        return new ApiProblem(HttpStatus.BAD_REQUEST, detail);
    }

    public static ApiProblem tooMany(String detail) {
        return new ApiProblem(HttpStatus.TOO_MANY_REQUESTS, detail);
    }

    public static ApiProblem conflict(String detail) {
        return new ApiProblem(HttpStatus.CONFLICT, detail);
    }
}
