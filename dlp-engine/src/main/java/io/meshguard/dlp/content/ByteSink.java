package io.meshguard.dlp.content;

import java.util.Arrays;

/** Growable output buffer a transformer writes to and the processor drains after each chunk. */
public final class ByteSink {
    private byte[] buf;
    private int len;

    private static final byte[] NONE = new byte[0];
    /** Smallest buffer made at a first write. */
    private static final int FIRST = 128;

    /**
     * The buffer is made at the first write, as large as that write needs ({@link #FIRST} at least), then doubles:
     * the sinks of a stream that is only held open (an event stream waiting for its next token, a direction without
     * a body) cost no buffer, and those of an event stream with small events cost about one event each, not a fixed
     * 1 KiB (a held event stream has half a dozen sinks).
     */
    public ByteSink() {
        buf = NONE;
    }

    /** With room for {@code capacity} bytes before it grows (small sinks for small texts). */
    public ByteSink(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    public void write(byte[] b, int off, int n) {
        ensure(len + n);
        System.arraycopy(b, off, buf, len, n);
        len += n;
    }

    public void write(byte[] b) {
        write(b, 0, b.length);
    }

    public void write(int b) {
        ensure(len + 1);
        buf[len++] = (byte) b;
    }

    public int size() {
        return len;
    }

    /** Returns everything written since the last drain. */
    public byte[] drain() {
        byte[] out = Arrays.copyOf(buf, len);
        len = 0;
        if (buf.length > 1 << 20) {
            buf = NONE;
        }
        return out;
    }

    /** Drops what was written since the last drain, keeping the buffer. */
    void reset() {
        len = 0;
        if (buf.length > 1 << 20) {
            buf = NONE;
        }
    }

    /**
     * Drops what was written and the buffer itself: for scratch sinks between messages, so that a stream that is only
     * held open keeps no buffer for them (the next write makes one as large as it needs).
     */
    void release() {
        len = 0;
        buf = NONE;
    }

    /** Keeps only the first {@code n} bytes written since the last drain. */
    void truncate(int n) {
        len = n;
    }

    /** Drops the first {@code n} bytes written since the last drain, keeping the rest in order. */
    void dropFirst(int n) {
        System.arraycopy(buf, n, buf, 0, len - n);
        len -= n;
    }

    /** The buffer itself, valid in {@code [0, size())} until the next write or drain (no copy). */
    byte[] array() {
        return buf;
    }

    /** True when the bytes written so far equal {@code b[off, off + n)}. */
    boolean contentEquals(byte[] b, int off, int n) {
        return Arrays.equals(buf, 0, len, b, off, off + n);
    }

    private void ensure(int cap) {
        if (cap > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(Math.max(cap, FIRST), buf.length * 2));
        }
    }
}
