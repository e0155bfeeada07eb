package dev.atelier.security;

import java.util.Arrays;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a caller may do. {@code owner} administers the installation; {@code template-admin} publishes templates;
 * {@code member} uses workspaces of its own; {@code auditor} and {@code finance} read the audit trail and costs.
 */
public enum Role {
    OWNER("owner"), TEMPLATE_ADMIN("template-admin"), MEMBER("member"), AUDITOR("auditor"), FINANCE("finance");

    private final String id;

    Role(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    public static Role parse(String id) {
        String wanted = id.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values()).filter(r -> r.id.equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown role '" + id + "' (known: "
                        + Arrays.stream(values()).map(Role::id).collect(Collectors.joining(", ")) + ")"));
    }

    public static Set<Role> parseAll(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).filter(s -> !s.isBlank()).map(Role::parse)
                .collect(Collectors.toUnmodifiableSet());
    }
}
