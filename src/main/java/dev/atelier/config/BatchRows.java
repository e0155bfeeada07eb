package dev.atelier.config;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The rows of one read-model table that a projection's batch holds in memory (issue #15's batched projections:
 * {@code workspaces} and {@code costs}): each row is read at most once per batch, changed in memory by the batch's
 * events, and written with the batch just before it commits. It keeps what that needs, and nothing else: the rows
 * held, the keys whose row the table was found not to have, which rows the batch added and which it changed.
 *
 * <p>Why a class of its own: that bookkeeping is what keeps memory and database in step. A batch's transaction that
 * rolls back as a whole takes its held rows with it (they belong to its unit of work), but an event parked in the
 * dead-letter queue is rolled back alone, to its savepoint, while the rest of its batch commits
 * ({@link EventRollbacks}). Its savepoint undoes its statements; {@link #undo} undoes what it changed here. Without
 * that, the batch would write a row (or a change of one) that the database never got from that event, and a rebuild
 * would disagree with the live read model. Both projections kept the same four collections and the same restore by
 * hand; this is the one copy.
 *
 * <p>Not thread-safe: a batch is handled by one thread. Rows are mutable objects changed in place by the handlers,
 * so {@link #undo} keeps a copy, made with the {@code copy} function, of the row as it was.
 *
 * @param <K> the row's key (a workspace id)
 * @param <V> the row as the projection holds it
 */
public final class BatchRows<K, V> {

    private final Function<K, V> read;
    private final UnaryOperator<V> copy;
    private final Map<K, V> rows = new LinkedHashMap<>();
    /** Keys whose row this batch has read and found missing: not read again. */
    private final Set<K> missing = new HashSet<>();
    /** Rows the table does not have yet (to insert rather than update). */
    private final Set<K> added = new LinkedHashSet<>();
    /** Rows to write, in the order of their first change. */
    private final Set<K> changed = new LinkedHashSet<>();

    /**
     * @param read reads a row from the table, or returns {@code null} when it has none; called at most once per key
     * @param copy copies a row, for {@link #undo}
     */
    public BatchRows(Function<K, V> read, UnaryOperator<V> copy) {
        this.read = read;
        this.copy = copy;
    }

    /** The row as this batch has it, read from the table the first time; {@code null} when there is none. */
    public V get(K key) {
        V row = rows.get(key);
        if (row != null || missing.contains(key)) {
            return row;
        }
        row = read.apply(key);
        if (row == null) {
            missing.add(key);
        } else {
            rows.put(key, row);
        }
        return row;
    }

    /** The row this batch holds, without reading the table; {@code null} when it holds none. */
    public V held(K key) {
        return rows.get(key);
    }

    /** A row the table does not have yet: held from now on, and written (as new) with the batch. */
    public void add(K key, V row) {
        rows.put(key, row);
        missing.remove(key);
        added.add(key);
        changed.add(key);
    }

    /** The held row of {@code key} was changed in place: it is written with the batch. */
    public void changed(K key) {
        changed.add(key);
    }

    /** Whether any row is to be written. */
    public boolean hasChanges() {
        return !changed.isEmpty();
    }

    /** How many rows are to be written. */
    public int changeCount() {
        return changed.size();
    }

    /**
     * Hands every row to be written to {@code write}, in the order of their first change, with whether the table
     * does not have it yet ({@link #add}). Call {@link #written()} once they are written.
     */
    public void forEachChange(BiConsumer<? super V, Boolean> write) {
        for (K key : changed) {
            write.accept(rows.get(key), added.contains(key));
        }
    }

    /** The changed rows are written: none is to be written again unless it changes again. They stay held. */
    public void written() {
        added.clear();
        changed.clear();
    }

    /**
     * How to put the row of {@code key} back as it is now: call before an event changes it (after {@link #get}, so a
     * row read from the table is held), and run the result if the event is rolled back alone. The row comes back as
     * a copy of what it was (or is forgotten if the batch held none), and so does whether it was known missing, new
     * and changed. A key found missing during the event stays known missing: the rollback does not give the table
     * that row.
     */
    public Runnable undo(K key) {
        V before = rows.get(key);
        V snapshot = before == null ? null : copy.apply(before);
        boolean wasMissing = missing.contains(key);
        boolean wasAdded = added.contains(key);
        boolean wasChanged = changed.contains(key);
        return () -> {
            if (snapshot == null) {
                rows.remove(key);
            } else {
                rows.put(key, snapshot);
            }
            if (wasMissing) {
                missing.add(key);
            }
            if (!wasAdded) {
                added.remove(key);
            }
            if (!wasChanged) {
                changed.remove(key);
            }
        };
    }
}
