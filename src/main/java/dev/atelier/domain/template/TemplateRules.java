package dev.atelier.domain.template;

import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.shared.Text;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Currency;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** Checks that a template definition is complete and consistent before it is published. */
final class TemplateRules {

    static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern PARAMETER_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    private TemplateRules() {
    }

    static void requireValidName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw DomainRuleViolation.invalid("template name " + Text.quote(name) + " is invalid: use 1-63 lower-case letters, "
                    + "digits and '-', starting and ending with a letter or digit");
        }
    }

    static void requireValid(TemplateDefinition definition, TemplateSpecValidator validator) {
        if (definition == null || definition.provider() == null || definition.provider().isBlank()) {
            throw DomainRuleViolation.invalid("template version needs a provider");
        }
        Text.require("provider", definition.provider(), 40, false);
        List<String> problems = new ArrayList<>();
        textProblems("spec", definition.spec(), 0, problems);
        for (TemplateParameter p : definition.parameters()) {
            textProblems("parameter", List.of(nullToEmpty(p.name()), nullToEmpty(p.description()),
                    nullToEmpty(p.defaultValue()), p.allowedValues()), 0, problems);
        }
        if (!problems.isEmpty()) {
            throw DomainRuleViolation.invalid("template version is invalid: " + String.join("; ", problems));
        }
        validator.validate(definition.provider(), definition.spec()).forEach(p -> problems.add("spec: " + p));
        checkParameters(definition.parameters(), problems);
        checkPolicy(definition.policy(), problems);
        checkPricing(definition.pricing(), problems);
        if (!problems.isEmpty()) {
            throw DomainRuleViolation.invalid("template version for provider '" + definition.provider()
                    + "' is invalid: " + String.join("; ", problems));
        }
    }

    private static void checkParameters(List<TemplateParameter> parameters, List<String> problems) {
        Set<String> seen = new HashSet<>();
        for (TemplateParameter p : parameters) {
            if (p.name() == null || !PARAMETER_NAME.matcher(p.name()).matches()) {
                problems.add("parameter name " + Text.quote(p.name()) + " is invalid (letters, digits, '_')");
                continue;
            }
            if (!seen.add(p.name())) {
                problems.add("parameter '" + p.name() + "' is declared twice");
            }
            if (p.defaultValue() != null) {
                String problem = ParameterValues.check(p, p.defaultValue());
                if (problem != null) {
                    problems.add("default of " + problem);
                }
            }
            for (String allowed : p.allowedValues()) {
                if (ParameterValues.typeProblem(p, allowed) != null) {
                    problems.add("allowed value " + Text.quote(allowed) + " of parameter '" + p.name() + "' is not a " + p.type());
                }
            }
        }
    }

    /** Longest text anywhere in a spec (start-up scripts); tab and line breaks are allowed there. */
    static final int MAX_SPEC_TEXT = 65536;

    /** Every string of a spec (keys too), at any depth: no NUL or other control character but tab and line breaks. */
    private static void textProblems(String path, Object value, int depth, List<String> problems) {
        if (value == null || depth > 16 || problems.size() > 10) {
            return;
        }
        if (value instanceof String text) {
            String problem = Text.problem(text, MAX_SPEC_TEXT, true);
            if (problem != null) {
                problems.add("a text of " + path + " " + problem);
            }
        } else if (value instanceof java.util.Map<?, ?> map) {
            map.forEach((k, v) -> {
                String problem = Text.problem(String.valueOf(k), 256, false);
                if (problem != null) {
                    problems.add("a key of " + path + " " + problem);
                } else {
                    textProblems(path + "." + k, v, depth + 1, problems);
                }
            });
        } else if (value instanceof java.util.Collection<?> list) {
            list.forEach(v -> textProblems(path, v, depth + 1, problems));
        }
    }

    private static String nullToEmpty(String value) {
        return value == null ? "" : value;
    }

    private static void checkPolicy(LifecyclePolicy policy, List<String> problems) {
        checkPositive("idleTimeout", policy.idleTimeout(), problems);
        checkPositive("maxLifetime", policy.maxLifetime(), problems);
        checkPositive("autostopAfterFailure", policy.autostopAfterFailure(), problems);
        checkPositive("dormancyAfter", policy.dormancyAfter(), problems);
        checkPositive("deleteAfterDormant", policy.deleteAfterDormant(), problems);
    }

    private static void checkPositive(String name, Duration value, List<String> problems) {
        if (value != null && (value.isNegative() || value.isZero())) {
            problems.add("policy." + name + " must be a positive duration, was " + value);
        }
    }

    private static void checkPricing(Pricing pricing, List<String> problems) {
        if (pricing == null) {
            return;
        }
        if (isNegative(pricing.runningPerHour()) || isNegative(pricing.stoppedPerHour())) {
            problems.add("pricing amounts must not be negative");
        }
        try {
            if (pricing.currency() == null) {
                problems.add("pricing.currency is required (ISO 4217, e.g. EUR)");
            } else {
                Currency.getInstance(pricing.currency());
            }
        } catch (IllegalArgumentException e) {
            problems.add("pricing.currency " + Text.quote(pricing.currency()) + " is not an ISO 4217 code");
        }
    }

    private static boolean isNegative(BigDecimal amount) {
        return amount != null && amount.signum() < 0;
    }
}
