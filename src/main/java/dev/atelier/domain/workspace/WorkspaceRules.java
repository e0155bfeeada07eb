package dev.atelier.domain.workspace;

import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.shared.Text;

import java.util.Map;
import java.util.regex.Pattern;

/** Input rules for workspaces: names and labels end up in provider resource names and tags. */
final class WorkspaceRules {

    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern LABEL_KEY = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._/-]{0,61}[A-Za-z0-9])?");
    private static final int MAX_LABELS = 50;
    private static final int MAX_LABEL_VALUE = 256;

    private WorkspaceRules() {
    }

    static void requireValidName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw DomainRuleViolation.invalid("workspace name " + Text.quote(name) + " is invalid: use 1-63 lower-case "
                    + "letters, digits and '-', starting and ending with a letter or digit");
        }
    }

    /** Owner and team are names of people and teams: one line, at most 100 characters. */
    static void requireValidPeople(String owner, String team) {
        Text.require("owner", owner, 100, false);
        Text.require("team", team, 100, false);
    }

    static void requireValidLabels(Map<String, String> labels) {
        if (labels == null) {
            return;
        }
        if (labels.size() > MAX_LABELS) {
            throw DomainRuleViolation.invalid("at most " + MAX_LABELS + " labels are allowed, got " + labels.size());
        }
        labels.forEach((key, value) -> {
            if (key == null || !LABEL_KEY.matcher(key).matches()) {
                throw DomainRuleViolation.invalid("label key " + Text.quote(key) + " is invalid: 1-63 letters, digits, "
                        + "'.', '_', '/' or '-'");
            }
            if (value == null || value.length() > MAX_LABEL_VALUE) {
                throw DomainRuleViolation.invalid("label '" + key + "' needs a value of at most "
                        + MAX_LABEL_VALUE + " characters");
            }
            Text.require("label '" + key + "'", value, MAX_LABEL_VALUE, false);
        });
    }
}
