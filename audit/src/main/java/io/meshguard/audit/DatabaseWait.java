package io.meshguard.audit;

/**
 * Since when the audit database thread has been waiting on PostgreSQL: connecting, sending a statement or COPY
 * data, awaiting a result or a commit. Its own work between those calls (encoding the COPY text, rendering details)
 * is not waiting. Written by the database thread, read by the batcher: a batch the database thread has not taken in
 * time goes to the spool only when PostgreSQL is what it waits for, not when the thread is merely short of CPU.
 */
final class DatabaseWait {
    private static final long NOT_WAITING = Long.MIN_VALUE;

    private volatile long since = NOT_WAITING;

    /** The database thread is about to wait on PostgreSQL. */
    void begin() {
        since = System.nanoTime();
    }

    /** PostgreSQL answered (or the call failed); the thread does its own work now. */
    void end() {
        since = NOT_WAITING;
    }

    /** Whether the current wait on PostgreSQL started more than {@code nanos} ago; safe from any thread. */
    boolean longerThan(long nanos) {
        long s = since;
        return s != NOT_WAITING && System.nanoTime() - s > nanos;
    }
}
