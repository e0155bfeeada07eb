package dev.atelier.provider;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code env} key of a template spec, as the providers that hand it to a process check it when a version is
 * published: a map of variable names to string values, none of them one the engine sets itself.
 */
public final class SpecEnvironment {

    /** A variable name a shell and a container runtime both accept. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

    private SpecEnvironment() {
    }

    /**
     * Adds a problem for every malformed entry of {@code env} (null: none given) and returns the well-formed ones.
     *
     * @param at       prefix of each problem (where in the spec, or "")
     * @param nameHint appended to the message about a malformed name (or "")
     * @param reserved names besides {@code ATELIER_*} that the engine sets for this provider
     */
    public static Map<String, String> check(Object env, String at, String nameHint, Set<String> reserved,
                                            List<String> problems) {
        Map<String, String> valid = new LinkedHashMap<>();
        if (env == null) {
            return valid;
        }
        if (!(env instanceof Map<?, ?> map)) {
            problems.add(at + "env must be a map of variable names to string values");
            return valid;
        }
        String setByEngine = reserved.isEmpty() ? "ATELIER_* variables are"
                : "ATELIER_* and " + String.join(", ", reserved) + " are";
        map.forEach((k, v) -> {
            if (!(k instanceof String name) || !NAME.matcher(name).matches()) {
                problems.add(at + "env name '" + k + "' is not a valid variable name" + nameHint);
            } else if (name.startsWith("ATELIER_") || reserved.contains(name)) {
                problems.add(at + "env name '" + k + "' is reserved: " + setByEngine + " set by the engine");
            } else if (!(v instanceof String value) || value.indexOf('\0') >= 0) {
                problems.add(at + "env value of '" + k + "' must be a string");
            } else {
                valid.put(name, value);
            }
        });
        return valid;
    }
}
