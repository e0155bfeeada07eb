package dev.atelier.provider;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The typed form of {@link ProviderOperation#operationId()}: what a provider needs to pick up an operation that is
 * still in progress when the engine polls it, possibly minutes later, after a restart, on another node. The engine
 * keeps the encoded string in the transition saga and hands it back to {@link WorkspaceProvider#poll} unread; only
 * the provider that made it reads it. Every provider encodes its operations the same way, so that an id in the
 * saga table or a log line reads the same whatever provider wrote it.
 *
 * <p>Encoded: {@code v1;kind=<kind>[;key=<key>][;at=<instant>][;handle=<handle>]}, for example
 * {@code v1;kind=start;key=3f2a…-4;at=2026-11-03T10:02:11.284Z} or
 * {@code v1;kind=insert;handle=operation-1762161267123-6428a1b3c5d7e}. In values {@code %} and {@code ;} are
 * written {@code %25} and {@code %3B}; nothing else is escaped, so a URL stays readable.
 *
 * @param kind   what the operation is, in the provider's words: the step that is under way ({@code insert},
 *               {@code pull}) or what the next poll waits for ({@code await-running}); letters, digits, '-'
 * @param handle the platform's own handle of the operation, when it has one (a Compute Engine zonal operation
 *               name, an Azure status URL); null when the provider finds the state by looking at the resource
 * @param key    attempt data: the idempotency key of the request that began the operation; null when not needed
 * @param at     attempt data: a moment that belongs to the attempt, such as when it began (events since then
 *               count) or its deadline (kill after it); kept to the millisecond; null when not needed
 */
public record OperationId(String kind, String handle, String key, Instant at) {

    /** The version of the encoding; an id without it was written before this type existed. */
    public static final String VERSION = "v1";
    private static final Pattern KIND = Pattern.compile("[A-Za-z][A-Za-z0-9-]{0,39}");

    public OperationId {
        if (kind == null || !KIND.matcher(kind).matches()) {
            throw new IllegalArgumentException("operation kind '" + kind + "' is not letters, digits and '-'");
        }
        at = at == null ? null : at.truncatedTo(ChronoUnit.MILLIS);
    }

    /** An operation the provider follows by looking at the resource: only its kind. */
    public static OperationId of(String kind) {
        return new OperationId(kind, null, null, null);
    }

    /** An operation the platform tracks itself, with the platform's handle of it. */
    public static OperationId of(String kind, String handle) {
        return new OperationId(kind, handle, null, null);
    }

    /** An operation of one attempt: the request's idempotency key and a moment of that attempt. */
    public static OperationId attempt(String kind, ProvisionRequest request, Instant at) {
        return new OperationId(kind, null, request.idempotencyKey(), at);
    }

    public boolean is(String otherKind) {
        return kind.equals(otherKind);
    }

    /** The moment of the attempt; a provider that wrote one needs it back. */
    public Instant requireAt() {
        if (at == null) {
            throw ProviderException.permanent("operation '" + encode() + "' carries no time");
        }
        return at;
    }

    /** The platform's handle; a provider that wrote one needs it back. */
    public String requireHandle() {
        if (handle == null) {
            throw ProviderException.permanent("operation '" + encode() + "' carries no handle");
        }
        return handle;
    }

    public String encode() {
        StringBuilder out = new StringBuilder(VERSION).append(";kind=").append(kind);
        if (key != null) {
            out.append(";key=").append(escape(key));
        }
        if (at != null) {
            out.append(";at=").append(at);
        }
        if (handle != null) {
            out.append(";handle=").append(escape(handle));
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return encode();
    }

    /** Reads an id in the current encoding; anything else is an unknown operation of {@code provider}. */
    public static OperationId parse(String provider, String encoded) {
        return parse(provider, encoded, old -> null);
    }

    /**
     * Reads an id in the current encoding or, through {@code legacy}, in the provider's own format from before it:
     * a transition saga that was in flight when the engine was upgraded keeps polling with the id it stored then.
     *
     * @param legacy the provider's reading of its old ids; null for a string that is not one of them
     * @throws ProviderException (permanent) for an id that is neither
     */
    public static OperationId parse(String provider, String encoded, Function<String, OperationId> legacy) {
        if (encoded != null && encoded.startsWith(VERSION + ";")) {
            OperationId read = decode(encoded);
            if (read != null) {
                return read;
            }
        } else if (encoded != null) {
            OperationId old = legacy.apply(encoded);
            if (old != null) {
                return old;
            }
        }
        throw ProviderException.permanent("unknown " + provider + " operation '" + encoded + "'");
    }

    /**
     * The old form that the docker, kubernetes and ssh providers shared: {@code <kind>:<key>[:<epoch millis>]}.
     * Null for anything else.
     */
    public static OperationId fromKindKeyMillis(String old) {
        String[] parts = old.split(":", -1);
        if (parts.length < 2 || parts.length > 3 || !KIND.matcher(parts[0]).matches() || parts[1].isEmpty()) {
            return null;
        }
        try {
            return new OperationId(parts[0], null, parts[1],
                    parts.length == 3 ? Instant.ofEpochMilli(Long.parseLong(parts[2])) : null);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static OperationId decode(String encoded) {
        Map<String, String> fields = new LinkedHashMap<>();
        String[] parts = encoded.split(";", -1);
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq <= 0 || fields.put(parts[i].substring(0, eq), unescape(parts[i].substring(eq + 1))) != null) {
                return null;
            }
        }
        String kind = fields.remove("kind");
        String handle = fields.remove("handle");
        String key = fields.remove("key");
        String at = fields.remove("at");
        if (kind == null || !KIND.matcher(kind).matches() || !fields.isEmpty()) {
            return null;
        }
        try {
            return new OperationId(kind, handle, key, at == null ? null : Instant.parse(at));
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    private static String escape(String value) {
        return value.replace("%", "%25").replace(";", "%3B");
    }

    private static String unescape(String value) {
        return value.replace("%3B", ";").replace("%25", "%");
    }
}
