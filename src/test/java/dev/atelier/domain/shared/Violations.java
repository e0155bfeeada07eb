package dev.atelier.domain.shared;

import dev.atelier.domain.shared.DomainRuleViolation.Kind;
import org.hamcrest.Description;
import org.hamcrest.Matcher;
import org.hamcrest.TypeSafeMatcher;

import java.util.Arrays;

/** Matches a refused command by its kind and the words its message must contain. */
public final class Violations {

    private Violations() {
    }

    public static Matcher<DomainRuleViolation> violation(Kind kind, String... fragments) {
        return new TypeSafeMatcher<>() {
            @Override
            protected boolean matchesSafely(DomainRuleViolation violation) {
                String message = violation.getMessage();
                return violation.kind() == kind && message != null
                        && Arrays.stream(fragments).allMatch(message::contains);
            }

            @Override
            public void describeTo(Description description) {
                description.appendText("DomainRuleViolation of kind ").appendValue(kind)
                        .appendValueList(" with a message containing ", ", ", "", fragments);
            }

            @Override
            protected void describeMismatchSafely(DomainRuleViolation violation, Description description) {
                description.appendText("was ").appendValue(violation.kind()).appendText(": ")
                        .appendValue(violation.getMessage());
            }
        };
    }
}
