package io.meshguard.dlp.content;

import java.util.Arrays;

/** Growable output buffer a transformer writes to and the processor drains after each chunk. */
public final class ByteSink {
    private byte[] buf = new byte[1024];
    private int len;

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
            buf = new byte[1024];
        }
        return out;
    }

    private void ensure(int cap) {
        if (cap > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(cap, buf.length * 2));
        }
    }
}
