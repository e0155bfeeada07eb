package dev.atelier.domain.template;

import dev.atelier.domain.shared.Actor;
import dev.atelier.domain.shared.DomainRuleViolation;
import dev.atelier.domain.shared.DomainRuleViolation.Kind;
import org.axonframework.test.aggregate.AggregateTestFixture;
import org.axonframework.test.aggregate.FixtureConfiguration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.atelier.domain.shared.Violations.violation;
import static dev.atelier.domain.template.TemplateParameter.Type.BOOL;
import static dev.atelier.domain.template.TemplateParameter.Type.NUMBER;
import static dev.atelier.domain.template.TemplateParameter.Type.STRING;
import static org.assertj.core.api.Assertions.assertThat;

/** Given/when/then tests of the {@link Template} aggregate and the rules a published version must follow. */
class TemplateTest {

    private static final String TPL = "tpl-1";
    private static final String NAME = "ubuntu-dev";
    private static final Actor ADMIN = Actor.user("admin");
    /** The test validator knows this provider and complains about every spec for it. */
    private static final String BROKEN_PROVIDER = "broken";

    private static final TemplateParameter CPU = new TemplateParameter("cpu", NUMBER, "cores", "2", List.of("2", "4"),
            true, false);
    private static final TemplateDefinition V1 = new TemplateDefinition("local", Map.of("image", "ubuntu:24.04"),
            List.of(CPU), new LifecyclePolicy(Duration.ofHours(1), Duration.ofDays(7), null, null, null),
            new Pricing(new BigDecimal("0.10"), BigDecimal.ZERO, "EUR"));
    private static final TemplateDefinition V2 = new TemplateDefinition("local", Map.of("image", "ubuntu:26.04"),
            List.of(CPU), null, null);

    private FixtureConfiguration<Template> fixture;
    private final List<String> validatedProviders = new ArrayList<>();
    private final List<Map<String, Object>> validatedSpecs = new ArrayList<>();

    @BeforeEach
    void setUp() {
        fixture = new AggregateTestFixture<>(Template.class);
        TemplateSpecValidator validator = (provider, spec) -> {
            validatedProviders.add(provider);
            validatedSpecs.add(spec);
            return provider.equals(BROKEN_PROVIDER)
                    ? List.of("unknown key 'image'", "'cmd' is required")
                    : List.of();
        };
        fixture.registerInjectableResource(validator);
    }

    // ---------------------------------------------------------------------------------------------- create

    @Nested
    class Create {

        @Test
        void createsTheTemplateWithVersionOneActive() {
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, NAME, "Ubuntu with tools", V1, ADMIN))
                    .expectSuccessfulHandlerExecution()
                    .expectEvents(
                            new TemplateCreatedEvent(TPL, NAME, "Ubuntu with tools", ADMIN),
                            new TemplateVersionPublishedEvent(TPL, 1, V1, ADMIN),
                            new TemplateActiveVersionChangedEvent(TPL, 1, ADMIN));
        }

        @Test
        void asksTheProviderToValidateTheSpec() {
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, NAME, null, V1, ADMIN))
                    .expectSuccessfulHandlerExecution();
            assertThat(validatedProviders).containsExactly("local");
            assertThat(validatedSpecs).containsExactly(Map.of("image", "ubuntu:24.04"));
        }

        @ParameterizedTest
        @CsvSource(value = {"Ubuntu", "ubuntu_dev", "-ubuntu", "ubuntu-", "''", "NULL"}, nullValues = "NULL")
        void rejectsAnInvalidName(String name) {
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, name, null, V1, ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "template name " + dev.atelier.domain.shared.Text.quote(name) + " is invalid"));
        }

        @Test
        void rejectsANameLongerThan63Characters() {
            String name = "t".repeat(64);
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, name, null, V1, ADMIN))
                    .expectNoEvents()
                    // Only an escaped prefix of what was sent is echoed.
                    .expectException(violation(Kind.INVALID, "template name '" + "t".repeat(40)
                            + "' (first 40 of 64 characters) is invalid"));
        }

        @Test
        void rejectsAMissingDefinition() {
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, NAME, null, null, ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "needs a provider"));
        }

        @ParameterizedTest
        @CsvSource(value = {"NULL", "''", "'  '"}, nullValues = "NULL")
        void rejectsAMissingProvider(String provider) {
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, NAME, null, definition(provider, List.of()), ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "template version needs a provider"));
            assertThat(validatedProviders).isEmpty();
        }

        @Test
        void rejectsASpecTheProviderDoesNotUnderstand() {
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, NAME, null, definition(BROKEN_PROVIDER, List.of()), ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "provider 'broken' is invalid",
                            "spec: unknown key 'image'", "spec: 'cmd' is required"));
        }
    }

    // ---------------------------------------------------------------------------- definition validation

    @Nested
    class DefinitionRules {

        @ParameterizedTest
        @ValueSource(strings = {"1cpu", "cpu-count", "cpu count", ""})
        void rejectsAnInvalidParameterName(String name) {
            rejects(definition("local", List.of(string(name, null))),
                    "parameter name '" + name + "' is invalid");
        }

        @Test
        void rejectsAParameterDeclaredTwice() {
            rejects(definition("local", List.of(string("region", null), string("region", "eu"))),
                    "parameter 'region' is declared twice");
        }

        @Test
        void rejectsADefaultThatIsNotAnAllowedValue() {
            rejects(definition("local", List.of(new TemplateParameter("region", STRING, null, "mars",
                            List.of("eu", "us"), true, false))),
                    "default of parameter 'region' must be one of [eu, us], was 'mars'");
        }

        @Test
        void rejectsANumberDefaultThatIsNoNumber() {
            rejects(definition("local", List.of(new TemplateParameter("cpu", NUMBER, null, "two", null, true,
                            false))),
                    "default of parameter 'cpu' must be a number, was 'two'");
        }

        @Test
        void rejectsABoolDefaultThatIsNoBoolean() {
            rejects(definition("local", List.of(new TemplateParameter("gpu", BOOL, null, "yes", null, true,
                            false))),
                    "default of parameter 'gpu' must be true or false, was 'yes'");
        }

        @Test
        void rejectsAllowedValuesOfTheWrongType() {
            rejects(definition("local", List.of(new TemplateParameter("cpu", NUMBER, null, null,
                            List.of("2", "lots"), true, false))),
                    "allowed value 'lots' of parameter 'cpu' is not a NUMBER");
        }

        @Test
        void rejectsADefaultLongerThan4096Characters() {
            rejects(definition("local", List.of(string("motd", "x".repeat(4097)))),
                    "default of parameter 'motd' is longer than 4096 characters");
        }

        @Test
        void acceptsWellTypedParameters() {
            TemplateDefinition definition = definition("local", List.of(
                    new TemplateParameter("cpu", NUMBER, null, "1.5", List.of("1.5", "-2", "1e3"), true, false),
                    new TemplateParameter("gpu", BOOL, null, "false", List.of("true", "false"), true, false),
                    string("region", null)));
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, NAME, null, definition, ADMIN))
                    .expectSuccessfulHandlerExecution();
        }

        @ParameterizedTest
        @CsvSource({"-0.01, 0", "0, -1"})
        void rejectsNegativePrices(String running, String stopped) {
            rejects(priced(new Pricing(new BigDecimal(running), new BigDecimal(stopped), "EUR")),
                    "pricing amounts must not be negative");
        }

        @ParameterizedTest
        @ValueSource(strings = {"EURO", "eur", "XYZ", ""})
        void rejectsACurrencyThatIsNoIso4217Code(String currency) {
            rejects(priced(new Pricing(BigDecimal.ONE, BigDecimal.ZERO, currency)),
                    "pricing.currency '" + currency + "' is not an ISO 4217 code");
        }

        @Test
        void rejectsAMissingCurrency() {
            rejects(priced(new Pricing(BigDecimal.ONE, BigDecimal.ZERO, null)), "pricing.currency is required");
        }

        @Test
        void acceptsFreePricing() {
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, NAME, null,
                            priced(new Pricing(BigDecimal.ZERO, BigDecimal.ZERO, "USD")), ADMIN))
                    .expectSuccessfulHandlerExecution();
        }

        @ParameterizedTest(name = "{0} = {1}")
        @CsvSource({
                "idleTimeout, PT0S",
                "maxLifetime, -PT1H",
                "autostopAfterFailure, PT0S",
                "dormancyAfter, -P1D",
                "deleteAfterDormant, PT0S",
        })
        void rejectsNonPositivePolicyDurations(String field, String value) {
            Duration duration = Duration.parse(value);
            LifecyclePolicy policy = new LifecyclePolicy(
                    field.equals("idleTimeout") ? duration : null,
                    field.equals("maxLifetime") ? duration : null,
                    field.equals("autostopAfterFailure") ? duration : null,
                    field.equals("dormancyAfter") ? duration : null,
                    field.equals("deleteAfterDormant") ? duration : null);
            rejects(new TemplateDefinition("local", Map.of(), List.of(), policy, null),
                    "policy." + field + " must be a positive duration, was " + duration);
        }

        @Test
        void listsEveryProblemAtOnce() {
            TemplateDefinition definition = new TemplateDefinition(BROKEN_PROVIDER, Map.of(),
                    List.of(string("region", null), string("region", null)),
                    new LifecyclePolicy(Duration.ZERO, null, null, null, null),
                    new Pricing(new BigDecimal("-1"), null, "nope"));
            rejects(definition, "spec: unknown key 'image'", "parameter 'region' is declared twice",
                    "policy.idleTimeout", "pricing amounts must not be negative", "pricing.currency 'nope'");
        }

        private void rejects(TemplateDefinition definition, String... messageFragments) {
            fixture.givenNoPriorActivity()
                    .when(new CreateTemplateCommand(TPL, NAME, null, definition, ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, messageFragments));
        }
    }

    // --------------------------------------------------------------------------------------------- publish

    @Nested
    class Publish {

        @Test
        void publishingWithActivateMakesTheNewVersionActive() {
            fixture.given(created())
                    .when(new PublishTemplateVersionCommand(TPL, V2, true, ADMIN))
                    .expectResultMessagePayload(2)
                    .expectEvents(
                            new TemplateVersionPublishedEvent(TPL, 2, V2, ADMIN),
                            new TemplateActiveVersionChangedEvent(TPL, 2, ADMIN));
        }

        @Test
        void publishingWithoutActivateLeavesTheActiveVersion() {
            fixture.given(created())
                    .when(new PublishTemplateVersionCommand(TPL, V2, false, ADMIN))
                    .expectResultMessagePayload(2)
                    .expectEvents(new TemplateVersionPublishedEvent(TPL, 2, V2, ADMIN));
        }

        @Test
        void versionsAreNumberedAfterTheLatestNotTheActive() {
            fixture.given(created())
                    .andGiven(new TemplateVersionPublishedEvent(TPL, 2, V2, ADMIN))
                    .when(new PublishTemplateVersionCommand(TPL, V1, false, ADMIN))
                    .expectResultMessagePayload(3)
                    .expectEvents(new TemplateVersionPublishedEvent(TPL, 3, V1, ADMIN));
        }

        @Test
        void rejectsAnInvalidDefinition() {
            fixture.given(created())
                    .when(new PublishTemplateVersionCommand(TPL, definition(BROKEN_PROVIDER, List.of()), true, ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "spec: unknown key 'image'"));
        }

        @Test
        void rejectsPublishingToAnArchivedTemplate() {
            fixture.given(created())
                    .andGiven(new TemplateArchivedEvent(TPL, ADMIN))
                    .when(new PublishTemplateVersionCommand(TPL, V2, true, ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "template tpl-1 is archived"));
        }
    }

    // ---------------------------------------------------------------------------------- set active version

    @Nested
    class SetActiveVersion {

        @Test
        void switchesToAnotherPublishedVersion() {
            fixture.given(created())
                    .andGiven(new TemplateVersionPublishedEvent(TPL, 2, V2, ADMIN))
                    .when(new SetActiveTemplateVersionCommand(TPL, 2, ADMIN))
                    .expectEvents(new TemplateActiveVersionChangedEvent(TPL, 2, ADMIN));
        }

        @Test
        void rollsBackToAnOlderVersion() {
            fixture.given(created())
                    .andGiven(new TemplateVersionPublishedEvent(TPL, 2, V2, ADMIN),
                            new TemplateActiveVersionChangedEvent(TPL, 2, ADMIN))
                    .when(new SetActiveTemplateVersionCommand(TPL, 1, ADMIN))
                    .expectEvents(new TemplateActiveVersionChangedEvent(TPL, 1, ADMIN));
        }

        @Test
        void settingTheActiveVersionAgainIsANoOp() {
            fixture.given(created())
                    .andGiven(new TemplateVersionPublishedEvent(TPL, 2, V2, ADMIN))
                    .when(new SetActiveTemplateVersionCommand(TPL, 1, ADMIN))
                    .expectSuccessfulHandlerExecution()
                    .expectNoEvents();
        }

        @ParameterizedTest
        @ValueSource(ints = {0, -1, 3})
        void rejectsAVersionThatWasNotPublished(int version) {
            fixture.given(created())
                    .andGiven(new TemplateVersionPublishedEvent(TPL, 2, V2, ADMIN))
                    .when(new SetActiveTemplateVersionCommand(TPL, version, ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.INVALID, "template tpl-1 has no version " + version,
                            "(versions 1..2)"));
        }

        @Test
        void rejectsChangesToAnArchivedTemplate() {
            fixture.given(created())
                    .andGiven(new TemplateVersionPublishedEvent(TPL, 2, V2, ADMIN), new TemplateArchivedEvent(TPL, ADMIN))
                    .when(new SetActiveTemplateVersionCommand(TPL, 2, ADMIN))
                    .expectNoEvents()
                    .expectException(violation(Kind.CONFLICT, "template tpl-1 is archived"));
        }
    }

    // --------------------------------------------------------------------------------------------- archive

    @Nested
    class Archive {

        @Test
        void archivesTheTemplate() {
            fixture.given(created())
                    .when(new ArchiveTemplateCommand(TPL, ADMIN))
                    .expectEvents(new TemplateArchivedEvent(TPL, ADMIN));
        }

        @Test
        void archivingTwiceIsANoOp() {
            fixture.given(created())
                    .andGiven(new TemplateArchivedEvent(TPL, ADMIN))
                    .when(new ArchiveTemplateCommand(TPL, ADMIN))
                    .expectSuccessfulHandlerExecution()
                    .expectNoEvents();
        }
    }

    // ------------------------------------------------------------------------------------------- fixtures

    private static List<Object> created() {
        return List.of(
                new TemplateCreatedEvent(TPL, NAME, "Ubuntu with tools", ADMIN),
                new TemplateVersionPublishedEvent(TPL, 1, V1, ADMIN),
                new TemplateActiveVersionChangedEvent(TPL, 1, ADMIN));
    }

    private static TemplateDefinition definition(String provider, List<TemplateParameter> parameters) {
        return new TemplateDefinition(provider, Map.of("image", "ubuntu"), parameters, null, null);
    }

    private static TemplateDefinition priced(Pricing pricing) {
        return new TemplateDefinition("local", Map.of(), List.of(), null, pricing);
    }

    private static TemplateParameter string(String name, String defaultValue) {
        return new TemplateParameter(name, STRING, null, defaultValue, null, true, false);
    }
}
