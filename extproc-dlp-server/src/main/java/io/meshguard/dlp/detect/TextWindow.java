package io.meshguard.dlp.detect;

/**
 * The bytes of one text stream that a scan round may look at: a slice of the stream starting at absolute offset
 * {@link #base()}, plus whether the stream has ended. Recognizers read through {@link #at(int)}, which refuses to
 * guess about bytes that have not arrived yet; that is what makes every decision independent of how the stream
 * was cut into chunks.
 */
public final class TextWindow {
    private byte[] bytes = new byte[256];
    private long base;
    private int length;
    private boolean complete;

    /** The raw array; valid indexes are {@code [0, length())}. */
    public byte[] bytes() {
        return bytes;
    }

    /** Absolute stream offset of {@code bytes()[0]}. */
    public long base() {
        return base;
    }

    /** Number of valid bytes. */
    public int length() {
        return length;
    }

    /** True once no more bytes will follow. */
    public boolean complete() {
        return complete;
    }

    /**
     * The byte at buffer index {@code i} as 0..255, or -1 before the start of the stream and after its end.
     *
     * @throws NeedMore when {@code i} is past the bytes received so far and the stream has not ended
     */
    public int at(int i) {
        // One unsigned test for the common case, 0 <= i < length (a negative i compares as a huge one): the
        // recognizers' walks read through here byte by byte.
        if (Integer.compareUnsigned(i, length) < 0) {
            return bytes[i] & 0xff;
        }
        if (i < 0) {
            if (base + i < 0) {
                return -1;
            }
            throw new IllegalStateException("read before the retained context at " + (base + i));
        }
        if (complete) {
            return -1;
        }
        throw NeedMore.INSTANCE;
    }

    /** Buffer index of an absolute offset. */
    public int index(long absolute) {
        return (int) (absolute - base);
    }

    public void append(byte[] data, int off, int len) {
        if (complete) {
            throw new IllegalStateException("text already complete");
        }
        ensure(length + len);
        System.arraycopy(data, off, bytes, length, len);
        length += len;
    }

    /** Empties the window for a new stream starting at offset 0. */
    public void reset() {
        base = 0;
        length = 0;
        complete = false;
        if (bytes.length > 64 * 1024) {
            bytes = new byte[256];
        }
    }

    public void markComplete() {
        complete = true;
    }

    /** Drops every byte before absolute offset {@code keepFrom}. */
    public void discardBefore(long keepFrom) {
        int drop = (int) (keepFrom - base);
        if (drop <= 0) {
            return;
        }
        System.arraycopy(bytes, drop, bytes, 0, length - drop);
        length -= drop;
        base = keepFrom;
    }

    private void ensure(int capacity) {
        if (capacity > bytes.length) {
            bytes = java.util.Arrays.copyOf(bytes, Math.max(capacity, bytes.length * 2));
        }
    }
}
