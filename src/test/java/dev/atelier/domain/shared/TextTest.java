package dev.atelier.domain.shared;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TextTest {

    @Test
    void controlCharactersSurrogatesAndLengthAreProblemsThatNeverEchoTheValue() {
        assertThat(Text.problem("fine text é 😀", 100, false)).isNull();
        assertThat(Text.problem("a\u0000b", 100, false)).isEqualTo("contains the control character U+0000 at position 1");
        assertThat(Text.problem("a\u0085", 100, false)).contains("U+0085");
        assertThat(Text.problem("a\nb\tc", 100, false)).contains("U+000A");
        assertThat(Text.problem("a\nb\tc", 100, true)).isNull();
        assertThat(Text.problem("a\u001bb", 100, true)).contains("U+001B");
        assertThat(Text.problem("a\ud800b", 100, false)).contains("unpaired UTF-16 surrogate");
        assertThat(Text.problem("\udc00", 100, false)).contains("unpaired UTF-16 surrogate");
        assertThat(Text.problem("x".repeat(101), 100, false)).isEqualTo("is longer than 100 characters (has 101)");
        assertThatThrownBy(() -> Text.require("team", "t\u0000", 10, false)).isInstanceOf(DomainRuleViolation.class)
                .hasMessage("team contains the control character U+0000 at position 1");
    }

    @Test
    void quotesShowAnEscapedPrefixOnly() {
        assertThat(Text.quote("plain")).isEqualTo("'plain'");
        assertThat(Text.quote("a\u0000'b")).isEqualTo("'a\\u0000\\u0027b'");
        assertThat(Text.quote("y".repeat(1000))).isEqualTo("'" + "y".repeat(40) + "' (first 40 of 1000 characters)");
        assertThat(Text.quote("\ud800")).isEqualTo("'\\uD800'");
    }

    @Test
    void storableTextLosesOnlyWhatPostgresqlCannotHold() {
        assertThat(Text.storable("ok\nline\ttab 😀")).isEqualTo("ok\nline\ttab 😀");
        assertThat(Text.storable("a\u0000b\ud800c")).isEqualTo("a\uFFFDb\uFFFDc");
    }

    @Test
    void spreadsheetFormulasGetALeadingApostrophe() {
        for (String formula : new String[]{"=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"}) {
            assertThat(Text.spreadsheetSafe(formula)).isEqualTo("'" + formula);
        }
        assertThat(Text.spreadsheetSafe("team-a")).isEqualTo("team-a");
        assertThat(Text.spreadsheetSafe("")).isEmpty();
    }
}
