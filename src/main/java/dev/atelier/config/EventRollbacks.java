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
     * savepoint (a group without a dead-letter queue, or the retry of a dead letter) nothing is registered: there a
     * failure rolls back the whole unit of work, and with it everything the handler held for it.
     */
    public static void onRollBack(Runnable undo) {
        EventSavepoints.Frame frame = EventSavepoints.current();
        if (frame != null) {
            frame.onRollBack(undo);
        }
    }
}
