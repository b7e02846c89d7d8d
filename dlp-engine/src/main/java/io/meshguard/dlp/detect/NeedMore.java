package io.meshguard.dlp.detect;

/**
 * Thrown by {@link TextWindow#at(int)} when a decision would need bytes that have not arrived yet. Preallocated and
 * without a stack trace: it is control flow at the end of every scan round, not an error.
 */
public final class NeedMore extends RuntimeException {
    static final NeedMore INSTANCE = new NeedMore();

    private NeedMore() {
        super("more input needed", null, false, false);
    }
}
