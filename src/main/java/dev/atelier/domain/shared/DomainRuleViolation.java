package dev.atelier.domain.shared;

/**
 * A command that the domain refuses. {@link #kind()} tells the API which HTTP status fits
 * (conflict with the current state, or invalid input) without the domain knowing about HTTP.
 */
public class DomainRuleViolation extends RuntimeException {

    public enum Kind { CONFLICT, INVALID, NOT_FOUND }

    private final Kind kind;

    public DomainRuleViolation(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    public static DomainRuleViolation conflict(String message) {
        return new DomainRuleViolation(Kind.CONFLICT, message);
    }

    public static DomainRuleViolation invalid(String message) {
        return new DomainRuleViolation(Kind.INVALID, message);
    }

    public static DomainRuleViolation notFound(String message) {
        return new DomainRuleViolation(Kind.NOT_FOUND, message);
    }
}
