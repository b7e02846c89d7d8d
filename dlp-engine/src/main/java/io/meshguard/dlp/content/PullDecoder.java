package io.meshguard.dlp.content;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a pull-style decoder (an {@link InputStream} over the compressed bytes, as the pure-Java brotli and zstd
 * decoders are) as a push-style {@link ContentDecoder}: the decoder runs on its own virtual thread and the two
 * sides take strict turns, so exactly one of them runs at any time and the result is deterministic. The decoder's
 * turn ends when it needs compressed bytes that have not arrived yet, when it has produced {@link #PIECE} decoded
 * bytes, or when it is done; the caller's turn hands those bytes to the sink on the caller's thread (where the
 * size limit may stop the body) and returns once the decoder wants more input.
 *
 * <p>Decoders read ahead: brotli's fills a 4 KiB input buffer before it decodes, so decoded text can lag the
 * compressed input by up to that much until more arrives or the body ends. Nothing is lost or reordered.
 */
final class PullDecoder implements ContentDecoder {
    /** Opens the decoding stream over the compressed bytes (may read the stream header). */
    interface Opener {
        InputStream open(InputStream compressed) throws IOException;
    }

    /**
     * Looks at the compressed bytes before the decoder does: may refuse them (e.g. what would need too much memory)
     * or leave parts out; returns the bytes the decoder gets.
     */
    interface InputFilter {
        InputFilter NONE = (b, off, len) -> java.util.Arrays.copyOfRange(b, off, off + len);

        byte[] apply(byte[] b, int off, int len) throws CorruptBodyException;
    }

    private static final java.util.concurrent.atomic.AtomicInteger LIVE =
            new java.util.concurrent.atomic.AtomicInteger();

    private final String coding;
    private final Opener opener;
    private final InputFilter inputFilter;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition turnChanged = lock.newCondition();
    // Everything below is guarded by lock.
    private boolean decoderTurn;
    private byte[] in = new byte[0];
    private int inPos;
    private int inEnd;
    private boolean inputEnded;
    private boolean waitingForInput;
    private final byte[] out = new byte[PIECE];
    private int outLen;
    private boolean done;
    private IOException failure;
    private boolean closed;
    private Thread thread;

    PullDecoder(String coding, Opener opener, InputFilter inputFilter) {
        this.coding = coding;
        this.opener = opener;
        this.inputFilter = inputFilter;
    }

    /** Decoder threads currently alive (started and not yet ended). */
    static int live() {
        return LIVE.get();
    }

    @Override
    public void decode(byte[] b, int off, int len, BodyTransformer sink) throws CorruptBodyException {
        if (len == 0) {
            return;
        }
        // The decoder reads from its own copy, so the caller's array is never touched after this call.
        lock.lock();
        try {
            if (done) {
                throw new CorruptBodyException("data after the end of the " + coding + " stream");
            }
            in = inputFilter.apply(b, off, len);
            inPos = 0;
            inEnd = in.length;
            runDecoder(sink);
            if (done && inPos < inEnd) {
                throw new CorruptBodyException("data after the end of the " + coding + " stream");
            }
        } finally {
            in = new byte[0];
            inPos = 0;
            inEnd = 0;
            lock.unlock();
        }
    }

    @Override
    public void finish(BodyTransformer sink) throws CorruptBodyException {
        lock.lock();
        try {
            inputEnded = true;
            // An empty body stays empty (as with gzip): only a stream that began must end properly.
            if (!done && thread != null) {
                runDecoder(sink);
            }
        } finally {
            lock.unlock();
            close();
        }
    }

    /** Gives the decoder turns until it needs input or is done, handing its output to the sink in between. */
    private void runDecoder(BodyTransformer sink) throws CorruptBodyException {
        if (thread == null) {
            LIVE.incrementAndGet();
            thread = Thread.ofVirtual().name("dlp-decode-" + coding).start(() -> {
                try {
                    decoderMain();
                } finally {
                    LIVE.decrementAndGet();
                }
            });
        }
        while (true) {
            decoderTurn = true;
            turnChanged.signalAll();
            while (decoderTurn) {
                turnChanged.awaitUninterruptibly();
            }
            if (outLen > 0) {
                int n = outLen;
                outLen = 0;
                sink.write(out, 0, n); // may throw (size limit): the decoder stays parked until close()
            }
            if (failure != null) {
                throw new CorruptBodyException("corrupt " + coding + " data: " + failure.getMessage());
            }
            if (done || (waitingForInput && !inputEnded)) {
                return;
            }
        }
    }

    @Override
    public boolean largeWindow() {
        return true;
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            decoderTurn = true;
            turnChanged.signalAll();
        } finally {
            lock.unlock();
        }
    }

    // ---- decoder thread ----

    private void decoderMain() {
        lock.lock();
        try {
            awaitTurn();
        } catch (InterruptedIOException e) {
            return; // closed before it began
        } finally {
            lock.unlock();
        }
        byte[] buf = new byte[PIECE];
        IOException error = null;
        boolean ended = false;
        boolean abandoned = false;
        try (InputStream decoded = opener.open(feed)) {
            int n;
            while ((n = decoded.read(buf, 0, buf.length)) != -1) {
                emit(buf, n);
            }
            ended = true;
        } catch (InterruptedIOException e) {
            abandoned = true; // closed while decoding: the body was abandoned, nobody waits for an answer
        } catch (IOException e) {
            error = e;
        } catch (RuntimeException | LinkageError e) {
            // The decoders signal some corrupt input with unchecked exceptions; a decoder that cannot even load
            // (LinkageError) must fail the body closed too.
            error = new IOException(e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        } finally {
            // Whatever happened (an Error too), the caller must never be left waiting for its turn.
            lock.lock();
            try {
                if (error == null && !ended && !abandoned) {
                    error = new IOException("decoder stopped unexpectedly");
                }
                failure = error;
                done = true;
                decoderTurn = false;
                turnChanged.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** Waits (holding the lock) until it is the decoder's turn; fails when closed. */
    private void awaitTurn() throws InterruptedIOException {
        while (!decoderTurn && !closed) {
            turnChanged.awaitUninterruptibly();
        }
        if (closed) {
            throw new InterruptedIOException("decoder closed");
        }
    }

    /** Hands the caller's turn over with the current output. */
    private void yieldToCaller() throws InterruptedIOException {
        decoderTurn = false;
        turnChanged.signalAll();
        awaitTurn();
    }

    private void emit(byte[] buf, int n) throws InterruptedIOException {
        lock.lock();
        try {
            int at = 0;
            while (at < n) {
                int k = Math.min(n - at, out.length - outLen);
                System.arraycopy(buf, at, out, outLen, k);
                outLen += k;
                at += k;
                if (outLen == out.length) {
                    yieldToCaller();
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /** The compressed bytes as the decoder sees them: blocks (yielding to the caller) until more arrive. */
    private final InputStream feed = new InputStream() {
        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n == -1 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            lock.lock();
            try {
                while (true) {
                    if (closed) {
                        throw new InterruptedIOException("decoder closed");
                    }
                    if (inPos < inEnd) {
                        int n = Math.min(len, inEnd - inPos);
                        System.arraycopy(in, inPos, b, off, n);
                        inPos += n;
                        return n;
                    }
                    if (inputEnded) {
                        return -1;
                    }
                    waitingForInput = true;
                    try {
                        yieldToCaller();
                    } finally {
                        waitingForInput = false;
                    }
                }
            } finally {
                lock.unlock();
            }
        }
    };
}
