package dev.atelier.providers.cloud;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads a template spec (JSON values: strings, numbers, booleans, lists, maps) key by key and collects every
 * problem in words a template author understands, naming the key. Getters return {@code null} for a missing or
 * invalid value, so one pass both validates a spec and reads it.
 */
public final class SpecReader {

    private final Map<String, Object> spec;
    private final List<String> problems = new ArrayList<>();

    public SpecReader(String provider, Map<String, Object> spec, Collection<String> knownKeys) {
        this.spec = spec == null ? Map.of() : spec;
        Set<String> known = new TreeSet<>(knownKeys);
        new TreeSet<>(this.spec.keySet()).stream().filter(k -> !known.contains(k)).forEach(k -> problems.add(
                "unknown key '" + k + "' for provider " + provider + " (known: " + String.join(", ", known) + ")"));
    }

    public List<String> problems() {
        return List.copyOf(problems);
    }

    public void problem(String message) {
        problems.add(message);
    }

    public boolean has(String key) {
        return spec.get(key) != null;
    }

    /** A string matching {@code pattern}; {@code expectation} says what a valid value looks like. */
    public String string(String key, boolean required, Pattern pattern, String expectation) {
        Object value = spec.get(key);
        if (value == null) {
            if (required) {
                problems.add(key + " is required (" + expectation + ")");
            }
            return null;
        }
        if (!(value instanceof String s)) {
            problems.add(key + " must be a string (" + expectation + ")");
            return null;
        }
        if (pattern != null && !pattern.matcher(s).matches()) {
            problems.add(key + " '" + printable(s) + "' is invalid: expected " + expectation);
            return null;
        }
        return s;
    }

    /** A string of at most {@code maxLength} characters, any content (a script). */
    public String text(String key, int maxLength) {
        Object value = spec.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String s)) {
            problems.add(key + " must be a string");
            return null;
        }
        if (s.length() > maxLength) {
            problems.add(key + " is longer than " + maxLength + " characters");
            return null;
        }
        return s;
    }

    /** One of {@code allowed} (compared exactly). */
    public String oneOf(String key, Collection<String> allowed, String defaultValue) {
        Object value = spec.get(key);
        if (value == null) {
            return defaultValue;
        }
        if (!(value instanceof String s) || !allowed.contains(s)) {
            problems.add(key + " '" + printable(String.valueOf(value)) + "' is not one of " + String.join(", ", allowed));
            return null;
        }
        return s;
    }

    public Integer integer(String key, int min, int max) {
        Object value = spec.get(key);
        if (value == null) {
            return null;
        }
        Long whole = wholeNumber(value);
        if (whole == null) {
            problems.add(key + " must be a whole number between " + min + " and " + max);
            return null;
        }
        if (whole < min || whole > max) {
            problems.add(key + " must be between " + min + " and " + max + ", was " + whole);
            return null;
        }
        return whole.intValue();
    }

    public boolean bool(String key, boolean defaultValue) {
        Object value = spec.get(key);
        if (value == null) {
            return defaultValue;
        }
        if (!(value instanceof Boolean b)) {
            problems.add(key + " must be true or false");
            return defaultValue;
        }
        return b;
    }

    /** A list of strings, each matching {@code pattern}; empty when missing. */
    public List<String> strings(String key, Pattern pattern, String expectation, int maxItems) {
        Object value = spec.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list)) {
            problems.add(key + " must be a list of strings (" + expectation + ")");
            return List.of();
        }
        if (list.size() > maxItems) {
            problems.add(key + " has " + list.size() + " entries, at most " + maxItems + " are allowed");
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (Object item : list) {
            if (!(item instanceof String s) || !pattern.matcher(s).matches()) {
                problems.add(key + " entry '" + printable(String.valueOf(item)) + "' is invalid: expected " + expectation);
            } else {
                out.add(s);
            }
        }
        return out;
    }

    /** A map of string to string (tags, labels); keys and values checked with the patterns; empty when missing. */
    public Map<String, String> stringMap(String key, Pattern keyPattern, Pattern valuePattern, String expectation,
                                         int maxEntries) {
        Object value = spec.get(key);
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> map)) {
            problems.add(key + " must be a map of strings (" + expectation + ")");
            return Map.of();
        }
        if (map.size() > maxEntries) {
            problems.add(key + " has " + map.size() + " entries, at most " + maxEntries + " are allowed");
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        map.forEach((k, v) -> {
            if (!(k instanceof String name) || !keyPattern.matcher(name).matches()) {
                problems.add(key + " key '" + printable(String.valueOf(k)) + "' is invalid: " + expectation);
            } else if (name.startsWith("atelier-")) {
                problems.add(key + " key '" + name + "' is reserved: atelier-* " + key + " are set by the engine");
            } else if (!(v instanceof String s) || !valuePattern.matcher(s).matches()) {
                problems.add(key + " value of '" + name + "' is invalid: " + expectation);
            } else {
                out.put(name, s);
            }
        });
        return out;
    }

    /** A list of maps (such as GPU accelerators); each is checked by the caller. */
    public List<Map<?, ?>> objects(String key, int maxItems) {
        Object value = spec.get(key);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list) || !list.stream().allMatch(i -> i instanceof Map<?, ?>)) {
            problems.add(key + " must be a list of objects");
            return List.of();
        }
        if (list.size() > maxItems) {
            problems.add(key + " has " + list.size() + " entries, at most " + maxItems + " are allowed");
            return List.of();
        }
        List<Map<?, ?>> out = new ArrayList<>();
        list.forEach(i -> out.add((Map<?, ?>) i));
        return out;
    }

    /**
     * A location (region, zone) that must be one of {@code known}; the problem names the known ones and the property
     * an operator adds a new one with.
     *
     * @param what     what the location is, for the problem: "AWS region"
     * @param property the operator's property for more: "atelier.providers.aws.extra-regions"
     */
    public String location(String key, Collection<String> known, String expectation, String what, String property) {
        String value = string(key, true, null, expectation);
        if (value != null && !known.contains(value)) {
            problems.add(key + " '" + printable(value) + "' is not a known " + what + " (known: "
                    + String.join(", ", known) + "; operators can add one with " + property + ")");
            return null;
        }
        return value;
    }

    /** {@code startupScript}: at most {@code maxLength} characters that cloud-init user data can carry. */
    public String startupScript(int maxLength) {
        String script = text("startupScript", maxLength);
        String problem = VmUserData.scriptProblem(script);
        if (problem != null) {
            problems.add(problem);
        }
        return script;
    }

    /** {@code sshUser}: a Linux user name, or {@code defaultUser} when the spec names none. */
    public String sshUser(String defaultUser) {
        String user = string("sshUser", false, VmUserData.SSH_USER, VmUserData.SSH_USER_EXPECTATION);
        return user == null ? defaultUser : user;
    }

    /**
     * {@code sshPort}: the port the image's sshd listens on, 22 when the spec names none. Atelier does not configure
     * sshd; this only says where the connection info and the SSH gateway's hop find it.
     */
    public int sshPort() {
        Integer port = integer("sshPort", 1, 65535);
        return port == null ? VmConnection.DEFAULT_SSH_PORT : port;
    }

    /** {@code sshPublicKey}: an OpenSSH public key line; {@code note} is added to what the problem expects. */
    public String sshPublicKey(boolean required, String note) {
        return string("sshPublicKey", required, VmUserData.SSH_PUBLIC_KEY,
                VmUserData.SSH_PUBLIC_KEY_EXPECTATION + (note == null ? "" : note));
    }

    /** The spec read, with every problem found on the way. */
    public <S> SpecRead<S> read(S spec) {
        return new SpecRead<>(spec, problems);
    }

    public static Long wholeNumber(Object value) {
        if (value instanceof Integer || value instanceof Long || value instanceof Short) {
            return ((Number) value).longValue();
        }
        if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                && !Double.isInfinite(n.doubleValue())) {
            return n.longValue();
        }
        return null;
    }

    /** User input echoed in an error: cut short, control characters replaced. */
    public static String printable(String s) {
        String cut = s.length() > 80 ? s.substring(0, 80) + "…" : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }
}
