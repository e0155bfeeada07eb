package dev.atelier.domain.template;

import dev.atelier.domain.shared.DomainRuleViolation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static dev.atelier.domain.template.TemplateParameter.Type.BOOL;
import static dev.atelier.domain.template.TemplateParameter.Type.NUMBER;
import static dev.atelier.domain.template.TemplateParameter.Type.STRING;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

class ParameterValuesTest {

    private static final TemplateParameter REGION = new TemplateParameter("region", STRING, null, null,
            List.of("eu", "us"), false, true);
    private static final TemplateParameter CPU = new TemplateParameter("cpu", NUMBER, null, "2", null, true, false);
    private static final TemplateParameter GPU = new TemplateParameter("gpu", BOOL, null, "false", null, true, false);
    private static final TemplateParameter DISK = new TemplateParameter("disk", NUMBER, null, "20", null, false, false);
    private static final TemplateParameter DOTFILES = new TemplateParameter("dotfiles", STRING, null, null, null, true,
            false);
    private static final List<TemplateParameter> DECLARED = List.of(REGION, CPU, GPU, DISK, DOTFILES);

    // ------------------------------------------------------------------------------------------------ create

    @Test
    void givenValuesWinAndDefaultsFillTheRest() {
        Map<String, String> resolved = ParameterValues.resolve(DECLARED, Map.of("region", "us", "cpu", "8"), null);

        assertThat(resolved).containsExactly(entry("cpu", "8"), entry("disk", "20"), entry("gpu", "false"),
                entry("region", "us"));
    }

    @Test
    void optionalParametersWithoutDefaultAreLeftOut() {
        Map<String, String> resolved = ParameterValues.resolve(DECLARED, Map.of("region", "eu"), null);

        assertThat(resolved).doesNotContainKey("dotfiles").hasSize(4);
    }

    @Test
    void noDeclaredParametersAndNoneGivenResolvesToNothing() {
        assertThat(ParameterValues.resolve(List.of(), null, null)).isEmpty();
    }

    @Test
    void nullGivenValuesAreTreatedAsNoneGiven() {
        assertThat(ParameterValues.resolve(List.of(CPU, GPU), null, null))
                .containsOnly(entry("cpu", "2"), entry("gpu", "false"));
    }

    @Test
    void immutableParametersCanBeSetFreelyOnCreate() {
        assertThat(ParameterValues.resolve(DECLARED, Map.of("region", "us", "disk", "500"), null))
                .contains(entry("region", "us"), entry("disk", "500"));
    }

    @Test
    void rejectsUnknownParametersAndNamesTheDeclaredOnes() {
        assertThatThrownBy(() -> ParameterValues.resolve(List.of(REGION, CPU), Map.of("region", "eu",
                "zeta", "1", "alpha", "2"), null))
                .isInstanceOfSatisfying(DomainRuleViolation.class,
                        e -> assertThat(e.kind()).isEqualTo(DomainRuleViolation.Kind.INVALID))
                // sorted, so the message is stable
                .hasMessageContaining("unknown parameter 'alpha' (declared: [region, cpu]); "
                        + "unknown parameter 'zeta' (declared: [region, cpu])");
    }

    @Test
    void rejectsAMissingRequiredParameter() {
        assertThatThrownBy(() -> ParameterValues.resolve(DECLARED, Map.of("cpu", "4"), null))
                .isInstanceOf(DomainRuleViolation.class)
                .hasMessage("invalid parameters: parameter 'region' is required");
    }

    @Test
    void anExplicitNullForARequiredParameterIsStillMissing() {
        Map<String, String> given = new HashMap<>();
        given.put("region", null);
        assertThatThrownBy(() -> ParameterValues.resolve(DECLARED, given, null))
                .hasMessageContaining("parameter 'region' is required");
    }

    @ParameterizedTest
    @ValueSource(strings = {"two", "", "1,5", "NaN", "0x10"})
    void rejectsANumberParameterThatIsNoNumber(String value) {
        assertThatThrownBy(() -> ParameterValues.resolve(List.of(CPU), Map.of("cpu", value), null))
                .isInstanceOf(DomainRuleViolation.class)
                .hasMessageContaining("parameter 'cpu' must be a number, was '" + value + "'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-3", "1.5", "1e3", "0"})
    void acceptsNumbers(String value) {
        assertThat(ParameterValues.resolve(List.of(CPU), Map.of("cpu", value), null)).containsEntry("cpu", value);
    }

    @ParameterizedTest
    @ValueSource(strings = {"yes", "TRUE", "False", "1", ""})
    void rejectsABoolParameterThatIsNotTrueOrFalse(String value) {
        assertThatThrownBy(() -> ParameterValues.resolve(List.of(GPU), Map.of("gpu", value), null))
                .isInstanceOf(DomainRuleViolation.class)
                .hasMessageContaining("parameter 'gpu' must be true or false, was '" + value + "'");
    }

    @Test
    void rejectsAValueThatIsNotAllowed() {
        assertThatThrownBy(() -> ParameterValues.resolve(DECLARED, Map.of("region", "EU"), null))
                .hasMessageContaining("parameter 'region' must be one of [eu, us], was 'EU'");
    }

    @Test
    void acceptsValuesUpTo4096Characters() {
        String value = "x".repeat(4096);
        assertThat(ParameterValues.resolve(List.of(DOTFILES), Map.of("dotfiles", value), null))
                .containsEntry("dotfiles", value);
    }

    @Test
    void rejectsValuesLongerThan4096Characters() {
        assertThatThrownBy(() -> ParameterValues.resolve(List.of(DOTFILES), Map.of("dotfiles", "x".repeat(4097)),
                null))
                .hasMessageContaining("parameter 'dotfiles' is longer than 4096 characters");
    }

    @Test
    void reportsEveryProblemAtOnce() {
        assertThatThrownBy(() -> ParameterValues.resolve(DECLARED, Map.of("cpu", "many", "gpu", "maybe",
                "colour", "red"), null))
                .isInstanceOf(DomainRuleViolation.class)
                .hasMessageStartingWith("invalid parameters: unknown parameter 'colour'")
                .hasMessageContaining("parameter 'region' is required")
                .hasMessageContaining("parameter 'cpu' must be a number")
                .hasMessageContaining("parameter 'gpu' must be true or false");
    }

    // ------------------------------------------------------------------------------------------------ update

    @Test
    void previousValuesAreKeptWhenNotGiven() {
        Map<String, String> previous = Map.of("region", "us", "cpu", "8", "gpu", "true", "disk", "50");

        assertThat(ParameterValues.resolve(DECLARED, Map.of(), previous)).isEqualTo(previous);
    }

    @Test
    void previousValuesWinOverANewDefault() {
        TemplateParameter cpuWithNewDefault = new TemplateParameter("cpu", NUMBER, null, "4", null, true, false);

        assertThat(ParameterValues.resolve(List.of(cpuWithNewDefault), null, Map.of("cpu", "2")))
                .containsExactly(entry("cpu", "2"));
    }

    @Test
    void givenValuesOverridePreviousMutableValues() {
        assertThat(ParameterValues.resolve(DECLARED, Map.of("cpu", "16"), Map.of("region", "eu", "cpu", "8")))
                .containsEntry("cpu", "16").containsEntry("region", "eu");
    }

    @Test
    void previousValuesOfParametersNoLongerDeclaredAreDropped() {
        assertThat(ParameterValues.resolve(List.of(CPU), null, Map.of("cpu", "8", "legacy", "x")))
                .containsExactly(entry("cpu", "8"));
    }

    @Test
    void aNewParameterTakesItsDefaultOnUpdate() {
        assertThat(ParameterValues.resolve(List.of(CPU, GPU), null, Map.of("cpu", "8")))
                .containsExactly(entry("cpu", "8"), entry("gpu", "false"));
    }

    @Test
    void rejectsChangingAnImmutableParameter() {
        assertThatThrownBy(() -> ParameterValues.resolve(DECLARED, Map.of("region", "us"),
                Map.of("region", "eu", "disk", "20")))
                .isInstanceOf(DomainRuleViolation.class)
                .hasMessageContaining("parameter 'region' is immutable and cannot change from 'eu'");
    }

    @Test
    void givingTheSameValueForAnImmutableParameterIsFine() {
        assertThat(ParameterValues.resolve(DECLARED, Map.of("region", "eu"), Map.of("region", "eu", "disk", "20")))
                .containsEntry("region", "eu").containsEntry("disk", "20");
    }

    @Test
    void anImmutableParameterNewInThisVersionCanBeSetOnUpdate() {
        assertThat(ParameterValues.resolve(DECLARED, Map.of("disk", "100"), Map.of("region", "eu")))
                .containsEntry("disk", "100");
    }

    @Test
    void rejectsRemovingAnImmutableParameterWithAnExplicitNull() {
        Map<String, String> given = new HashMap<>();
        given.put("disk", null);

        assertThatThrownBy(() -> ParameterValues.resolve(DECLARED, given, Map.of("region", "eu", "disk", "20")))
                .isInstanceOf(DomainRuleViolation.class)
                .hasMessageContaining("parameter 'disk' is immutable and cannot change from '20'");
    }
}
