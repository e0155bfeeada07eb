package dev.atelier.config;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A batch's rows: committed changes are written once, a rolled-back event leaves none of its changes in memory, and
 * what the table has or lacks is read once.
 */
class BatchRowsTest {

    /** The table: what {@link BatchRows} reads, and how often. */
    private final Map<String, Integer> table = new HashMap<>(Map.of("ws-1", 10, "ws-2", 20));
    private final List<String> reads = new ArrayList<>();
    private final BatchRows<String, Row> rows = new BatchRows<>(id -> {
        reads.add(id);
        Integer value = table.get(id);
        return value == null ? null : new Row(id, value);
    }, Row::copy);

    @Test
    void aRowIsReadOnceAndSoIsItsAbsence() {
        assertThat(rows.get("ws-1").value).isEqualTo(10);
        assertThat(rows.get("ws-1")).isSameAs(rows.get("ws-1"));
        assertThat(rows.get("ws-9")).isNull();
        assertThat(rows.get("ws-9")).isNull();
        assertThat(reads).containsExactly("ws-1", "ws-9");
        assertThat(rows.held("ws-2")).as("held reads nothing").isNull();
        assertThat(reads).containsExactly("ws-1", "ws-9");
        assertThat(rows.hasChanges()).isFalse();
    }

    @Test
    void committedChangesAreWrittenOnceInTheOrderOfTheirFirstChangeWithWhetherTheyAreNew() {
        rows.get("ws-2").value = 21;
        rows.changed("ws-2");
        assertThat(rows.get("ws-9")).isNull();
        rows.add("ws-9", new Row("ws-9", 90));
        rows.get("ws-1").value = 11;
        rows.changed("ws-1");
        rows.get("ws-2").value = 22;
        rows.changed("ws-2");

        assertThat(rows.changeCount()).isEqualTo(3);
        assertThat(changes()).containsExactly("ws-2=22 updated", "ws-9=90 new", "ws-1=11 updated");
        rows.written();
        assertThat(rows.hasChanges()).isFalse();
        assertThat(changes()).isEmpty();

        // Still held after the write: the next change needs no read, and a written new row is updated from now on.
        rows.get("ws-9").value = 91;
        rows.changed("ws-9");
        assertThat(changes()).containsExactly("ws-9=91 updated");
        assertThat(reads).containsExactly("ws-2", "ws-9", "ws-1");
    }

    @Test
    void aRolledBackChangeLeavesTheRowAsItWasAndUnchanged() {
        Row row = rows.get("ws-1");
        Runnable undo = rows.undo("ws-1");
        row.value = 99;
        rows.changed("ws-1");

        undo.run();

        assertThat(rows.get("ws-1").value).isEqualTo(10);
        assertThat(rows.hasChanges()).as("nothing for the database to get").isFalse();
        assertThat(reads).as("restored from memory, not read again").containsExactly("ws-1");
        // The restored row is a copy: the rolled-back event's object no longer counts.
        row.value = 98;
        assertThat(rows.get("ws-1").value).isEqualTo(10);
    }

    @Test
    void aRolledBackEventKeepsWhatEarlierEventsOfTheBatchChanged() {
        rows.get("ws-1").value = 11;
        rows.changed("ws-1");
        Runnable undo = rows.undo("ws-1");
        rows.get("ws-1").value = 12;
        rows.changed("ws-1");

        undo.run();

        assertThat(changes()).containsExactly("ws-1=11 updated");
    }

    @Test
    void aRolledBackCreationLeavesTheRowMissingAgainWithoutARead() {
        assertThat(rows.get("ws-9")).isNull();
        Runnable undo = rows.undo("ws-9");
        rows.add("ws-9", new Row("ws-9", 90));
        assertThat(changes()).containsExactly("ws-9=90 new");

        undo.run();

        assertThat(rows.held("ws-9")).isNull();
        assertThat(rows.get("ws-9")).isNull();
        assertThat(reads).as("still known missing").containsExactly("ws-9");
        assertThat(rows.hasChanges()).isFalse();
    }

    @Test
    void aRolledBackChangeOfARowCreatedEarlierInTheBatchKeepsItNew() {
        rows.get("ws-9");
        rows.add("ws-9", new Row("ws-9", 90));
        Runnable undo = rows.undo("ws-9");
        rows.get("ws-9").value = 91;
        rows.changed("ws-9");

        undo.run();

        assertThat(changes()).containsExactly("ws-9=90 new");
    }

    @Test
    void aRowTheBatchDidNotHoldIsForgottenOnRollback() {
        Runnable undo = rows.undo("ws-2");
        rows.add("ws-2", new Row("ws-2", 200));

        undo.run();

        assertThat(rows.held("ws-2")).isNull();
        assertThat(rows.hasChanges()).isFalse();
        assertThat(rows.get("ws-2").value).as("read from the table as it is").isEqualTo(20);
    }

    private List<String> changes() {
        List<String> out = new ArrayList<>();
        rows.forEachChange((row, isNew) -> out.add(row.id + "=" + row.value + (isNew ? " new" : " updated")));
        return out;
    }

    private static final class Row {
        final String id;
        int value;

        Row(String id, int value) {
            this.id = id;
            this.value = value;
        }

        Row copy() {
            return new Row(id, value);
        }
    }
}
