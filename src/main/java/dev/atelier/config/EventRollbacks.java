package dev.atelier.config;

/**
 * For handlers that hold a batch's changes in memory and write them when the batch commits (the workspaces
 * projection): when the event being handled is parked in the dead-letter queue, its savepoint is rolled back
 * ({@link EventSavepoints}), which undoes its statements but not what a handler only remembered. A handler registers
 * here how to forget that, so a parked event leaves nothing behind in memory either.
 */
public final class EventRollbacks {

    private EventRollbacks() {
    }

    /**
     * Runs {@code undo} if the event being handled on this thread is rolled back to its savepoint. Without a
     * savepoint (a group without a dead-letter queue, the retry of a dead letter, or an event that has not failed
     * before: see {@link EventSavepoints}) nothing is registered: there a failure rolls back the whole unit of work,
     * and with it everything the handler held for it.
     */
    public static void onRollBack(Runnable undo) {
        EventSavepoints.Frame frame = EventSavepoints.current();
        if (frame != null) {
            frame.onRollBack(undo);
        }
    }

    /**
     * Whether the event being handled on this thread can be rolled back alone (it failed before and has a savepoint
     * now). Without one, {@link #onRollBack} registers nothing: a handler can skip remembering how to undo.
     */
    public static boolean armed() {
        EventSavepoints.Frame frame = EventSavepoints.current();
        return frame != null && frame.hasSavepoint();
    }
}
