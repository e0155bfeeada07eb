package dev.atelier.domain.template;

import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.shared.Text;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Resolves the parameter values of a workspace against the parameters a template version declares. */
public final class ParameterValues {

    private static final int MAX_VALUE_LENGTH = 4096;

    private ParameterValues() {
    }

    /**
     * @param previous values the workspace had before (for updates), or null on create
     * @return every declared parameter with its value (given, previous or default)
     * @throws DomainRuleViolation listing every problem at once
     */
    public static Map<String, String> resolve(List<TemplateParameter> declared, Map<String, String> given,
                                              Map<String, String> previous) {
        Map<String, String> values = given == null ? Map.of() : given;
        List<String> problems = new ArrayList<>();
        Map<String, TemplateParameter> byName = new LinkedHashMap<>();
        declared.forEach(p -> byName.put(p.name(), p));
        values.keySet().stream().filter(k -> !byName.containsKey(k)).sorted()
                .forEach(k -> problems.add("unknown parameter " + Text.quote(k) + " (declared: " + byName.keySet() + ")"));
        Map<String, String> resolved = new TreeMap<>();
        for (TemplateParameter p : declared) {
            String before = previous == null ? null : previous.get(p.name());
            String value = values.containsKey(p.name()) ? values.get(p.name()) : before != null ? before : p.defaultValue();
            // Before the null check: an explicit null must not remove an immutable value.
            if (previous != null && !p.mutable() && before != null && !before.equals(value)) {
                problems.add("parameter '" + p.name() + "' is immutable and cannot change from " + Text.quote(before));
                continue;
            }
            if (value == null) {
                if (p.required()) {
                    problems.add("parameter '" + p.name() + "' is required");
                }
                continue;
            }
            String problem = check(p, value);
            if (problem != null) {
                problems.add(problem);
                continue;
            }
            resolved.put(p.name(), value);
        }
        if (!problems.isEmpty()) {
            throw DomainRuleViolation.invalid("invalid parameters: " + String.join("; ", problems));
        }
        return resolved;
    }

    static String check(TemplateParameter p, String value) {
        String textProblem = Text.problem(value, MAX_VALUE_LENGTH, false);
        if (textProblem != null) {
            return "parameter '" + p.name() + "' " + textProblem;
        }
        String typeProblem = typeProblem(p, value);
        if (typeProblem != null) {
            return typeProblem;
        }
        if (!p.allowedValues().isEmpty() && !p.allowedValues().contains(value)) {
            return "parameter '" + p.name() + "' must be one of " + p.allowedValues() + ", was " + Text.quote(value);
        }
        return null;
    }

    static String typeProblem(TemplateParameter p, String value) {
        switch (p.type()) {
            case NUMBER -> {
                try {
                    new BigDecimal(value);
                } catch (NumberFormatException e) {
                    return "parameter '" + p.name() + "' must be a number, was " + Text.quote(value);
                }
            }
            case BOOL -> {
                if (!value.equals("true") && !value.equals("false")) {
                    return "parameter '" + p.name() + "' must be true or false, was " + Text.quote(value);
                }
            }
            default -> {
            }
        }
        return null;
    }
}
