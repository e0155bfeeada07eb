package dev.atelier.api;

import org.springframework.http.HttpMethod;

import java.util.Locale;

/**
 * What an API request was trying to do, in audit terms (action, resource type and id), read from its method and
 * path, so that a request refused before or by its controller is recorded like the event it would have produced.
 */
final class AuditRoutes {

    record Target(String action, String resourceType, String resourceId) {
    }

    private AuditRoutes() {
    }

    static Target of(HttpMethod method, String path) {
        String[] s = path.split("/");
        String verb = method.name().toLowerCase(Locale.ROOT);
        // "", "api", "v1", collection, id, sub-resource
        if (s.length < 4 || !"api".equals(s[1])) {
            return new Target(verb, "api", null);
        }
        String collection = s[3];
        String id = s.length > 4 ? limit(s[4]) : null;
        String sub = s.length > 5 ? s[5] : null;
        boolean get = method == HttpMethod.GET;
        return switch (collection) {
            case "workspaces" -> workspace(method, id, sub);
            case "templates" -> new Target(id == null ? (get ? "list" : "create")
                    : sub == null ? (get ? "read" : verb)
                    : switch (sub) {
                        case "versions" -> "publish";
                        case "active-version" -> "activate";
                        case "archive" -> "archive";
                        default -> verb;
                    }, "template", id);
            case "tokens" -> new Target(id == null ? (get ? "list" : "create") : method == HttpMethod.DELETE ? "revoke"
                    : "rotate".equals(sub) ? "rotate" : verb, "token", id);
            case "users" -> user(method, id, sub, s.length > 6 ? limit(s[6]) : null);
            case "teams" -> new Target(id == null ? (get ? "list" : "create") : "members".equals(sub) ? "set-members"
                    : verb, "team", id);
            case "audit" -> new Target(id == null ? "read" : switch (id) {
                case "export", "verify", "purge", "rebuild", "status" -> id;
                default -> verb;
            }, "audit", null);
            case "orphans" -> new Target(id == null ? "list" : verb, "orphan", id);
            case "reconcile" -> new Target("reconcile", "reconciliation", null);
            default -> new Target(verb, limit(collection), id);
        };
    }

    private static Target user(HttpMethod method, String id, String sub, String keyId) {
        boolean get = method == HttpMethod.GET;
        if (id == null) {
            return new Target(get ? "list" : "create", "user", null);
        }
        if ("keys".equals(sub)) {
            return new Target(get ? "read" : method == HttpMethod.DELETE ? "remove-key" : "add-key", "ssh-key",
                    keyId != null ? keyId : id);
        }
        return new Target(sub == null ? (get ? "read" : method.name().toLowerCase(Locale.ROOT))
                : switch (sub) {
                    case "suspend", "activate" -> sub;
                    default -> method.name().toLowerCase(Locale.ROOT);
                }, "user", id);
    }

    private static Target workspace(HttpMethod method, String id, String sub) {
        if (id == null) {
            return new Target(method == HttpMethod.GET ? "list" : "create", "workspace", null);
        }
        if ("watch".equals(id) && sub == null) {
            return new Target("watch", "workspace", null);
        }
        if (sub == null) {
            return new Target(method == HttpMethod.GET ? "read" : method == HttpMethod.DELETE ? "delete"
                    : method.name().toLowerCase(Locale.ROOT), "workspace", id);
        }
        return new Target(switch (sub) {
            case "start", "stop", "update", "activity" -> sub;
            case "history", "connection", "watch" -> "read";
            case "host-keys" -> "report-host-keys";
            default -> method.name().toLowerCase(Locale.ROOT);
        }, "workspace", id);
    }

    private static String limit(String value) {
        return value.length() <= 200 ? value : value.substring(0, 200);
    }
}
