package io.meshguard.dlpserver;

import java.util.concurrent.Semaphore;

/**
 * Bounds how many bodies are decoded at once with a large window. A brotli stream may demand a 16 MiB window and a
 * zstd one 8 MiB (gzip and deflate: 32 KiB), and the sender chooses: without a bound, a few hundred concurrent
 * compressed requests would exhaust the heap and take every stream of the server down with it. Past the bound a
 * body is handled as an encoding the server cannot decode (the profile's {@code unknown_encoding}, block by
 * default), never passed unscanned by surprise.
 */
final class DecoderBudget {
    /** The largest window a large-window decoder may hold (brotli's limit). */
    static final long WINDOW_BYTES = 16L << 20;

    private final int capacity;
    private final Semaphore permits;

    DecoderBudget(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("decoder budget must be >= 1, got " + capacity);
        }
        this.capacity = capacity;
        this.permits = new Semaphore(capacity);
    }

    /** A quarter of the heap for decoder windows, and at least four decoders. */
    static DecoderBudget forHeap(long maxHeapBytes) {
        return new DecoderBudget((int) Math.max(4, Math.min(Integer.MAX_VALUE, maxHeapBytes / 4 / WINDOW_BYTES)));
    }

    /** For one-off scans (the CLI) where one body is decoded at a time. */
    static DecoderBudget unbounded() {
        return new DecoderBudget(Integer.MAX_VALUE);
    }

    boolean tryAcquire() {
        return permits.tryAcquire();
    }

    void release() {
        permits.release();
    }

    int capacity() {
        return capacity;
    }

    int inUse() {
        return capacity - permits.availablePermits();
    }
}
