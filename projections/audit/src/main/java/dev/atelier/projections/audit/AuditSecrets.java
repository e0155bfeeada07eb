package dev.atelier.projections.audit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Turns values into the flat field maps that audit diffs are computed from, with secrets replaced by a marker.
 * A value is secret when any key on its path matches {@code password|secret|token|key|credential}
 * (case-insensitive), or when it is a value of an {@code env} map (a template's environment variables).
 * <p>
 * So that a changed secret still shows up as a change (without showing either value), the resource state keeps a
 * keyed digest (HMAC-SHA256 with a per-installation key) next to the marker; diffs and the API only ever show
 * the marker.
 */
final class AuditSecrets {

    static final String MARKER = "[secret]";
    private static final Pattern SECRET_KEY = Pattern.compile("password|secret|token|key|credential",
            Pattern.CASE_INSENSITIVE);
    /** Separates what may be shown from the digest of what may not, inside the resource state only. */
    private static final char DIGEST = '\u001f';

    private final byte[] digestKey;

    AuditSecrets(byte[] digestKey) {
        this.digestKey = digestKey.clone();
    }

    static boolean isSecretKey(String key) {
        return SECRET_KEY.matcher(key).find();
    }

    /** What a state value looks like to a reader: the marker instead of a secret, never the digest. */
    static String visible(String stateValue) {
        if (stateValue == null) {
            return null;
        }
        int cut = stateValue.indexOf(DIGEST);
        return cut < 0 ? stateValue : stateValue.substring(0, cut);
    }

    /**
     * Flattens maps into dotted paths under {@code prefix}; lists are one field (their canonical JSON, secrets
     * inside masked); scalars are their text.
     */
    Map<String, String> flatten(String prefix, Object value) {
        Map<String, String> out = new TreeMap<>();
        flatten(prefix, value, prefix.isEmpty() ? false : isSecretKey(lastSegment(prefix)), out);
        return out;
    }

    /** A copy of a string map with secret values replaced by the marker (for details of an attempt). */
    static Map<String, String> masked(Map<String, String> values) {
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((k, v) -> out.put(k, v == null ? null : isSecretKey(k) ? MARKER : v));
        return out;
    }

    private void flatten(String path, Object value, boolean secret, Map<String, String> out) {
        if (value == null) {
            return;
        }
        if (value instanceof Map<?, ?> map) {
            boolean env = "env".equalsIgnoreCase(lastSegment(path));
            map.forEach((k, v) -> {
                String key = String.valueOf(k);
                flatten(path.isEmpty() ? key : path + "." + key, v, secret || env || isSecretKey(key), out);
            });
            return;
        }
        if (value instanceof List<?> list) {
            String raw = CanonicalJson.write(list);
            if (secret) {
                out.put(path, MARKER + DIGEST + digest(path, raw));
                return;
            }
            String shown = CanonicalJson.write(mask(list, false, false));
            out.put(path, shown.equals(raw) ? raw : shown + DIGEST + digest(path, raw));
            return;
        }
        String text = scalar(value);
        out.put(path, secret ? MARKER + DIGEST + digest(path, text) : text);
    }

    /** Masks secrets inside a structure that is shown as one value (a list of sidecars with their env, ...). */
    private static Object mask(Object value, boolean secret, boolean envValue) {
        if (value == null) {
            return null;
        }
        if (secret || envValue) {
            return MARKER;
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new TreeMap<>();
            map.forEach((k, v) -> {
                String key = String.valueOf(k);
                if ("env".equalsIgnoreCase(key) && v instanceof Map<?, ?> env) {
                    Map<String, Object> maskedEnv = new TreeMap<>();
                    env.forEach((name, ignored) -> maskedEnv.put(String.valueOf(name), MARKER));
                    out.put(key, maskedEnv);
                } else {
                    out.put(key, mask(v, isSecretKey(key), false));
                }
            });
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            list.forEach(v -> out.add(mask(v, false, false)));
            return out;
        }
        return value;
    }

    static String scalar(Object value) {
        if (value instanceof java.math.BigDecimal decimal) {
            return decimal.toPlainString();
        }
        return String.valueOf(value);
    }

    private String digest(String path, String value) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(digestKey, "HmacSHA256"));
            byte[] digest = mac.doFinal((path + "=" + value).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String lastSegment(String path) {
        int dot = path.lastIndexOf('.');
        return dot < 0 ? path : path.substring(dot + 1);
    }
}
