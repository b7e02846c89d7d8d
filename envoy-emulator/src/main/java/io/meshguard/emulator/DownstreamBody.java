package io.meshguard.emulator;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

/**
 * The request body as the connection manager reads it from the client: read as soon as the stream exists, whatever
 * the filters are doing, into the stream's buffer, and handed on only when a filter lets it through.
 *
 * <ul>
 *   <li>While ext_authz's Check is pending its {@code decodeHeaders} returned {@code StopAllIterationAndWatermark}
 *       (envoyproxy/envoy source/extensions/filters/http/ext_authz/ext_authz.cc {@code decodeHeaders}, the call in
 *       flight), so the filter manager holds every chunk that arrives and no later filter sees it
 *       (source/common/http/filter_manager.cc {@code commonContinue} replays the buffered data on
 *       {@code continueDecoding}).</li>
 *   <li>The held bytes count against the stream's buffer limit, the listener's
 *       {@code per_connection_buffer_limit_bytes}: above it (the high watermark) the connection manager stops reading
 *       the client, below half of it (the low watermark) it reads again
 *       (source/common/buffer/watermark_buffer.cc; {@code ActiveStream::onDecoderFilterAboveWriteBufferHighWatermark}
 *       → {@code readDisable(true)} in source/common/http/conn_manager_impl.cc). A fast client is back-pressured, not
 *       refused, unless ext_authz buffers the body for its Check ({@code with_request_body}, {@link #prefix}).</li>
 *   <li>ext_proc in FULL_DUPLEX_STREAMED drains the buffer into its stream as chunks come, even while its own headers
 *       answer is pending (ext_proc.cc {@code onData}, {@code HeadersCallback} branch: "Sending body data even though
 *       header processing is still in progress as body mode is FULL_DUPLEX_STREAMED"; so since the mode came in
 *       (envoyproxy/envoy#34942; shipped in 1.34, docs/envoy-features.md), i.e. on every Envoy meshguard supports); the
 *       modes that hold the body until the headers answer ({@code STREAMED} without
 *       {@code send_body_without_waiting_for_header_response}, {@code BUFFERED}: {@code StopIterationAndWatermark} /
 *       {@code StopIterationAndBuffer} there) are not emitted and the emulator refuses them.</li>
 * </ul>
 * Thread-safe: the reader runs on its own thread, one consumer takes the pieces.
 */
final class DownstreamBody {
    /** How the body stood at one moment: what arrived, what is held, how often the client was paused. */
    record Held(int chunksReceived, long bytesReceived, long bytesHeld, int readPauses) {}

    private long highWatermark;
    private final Deque<byte[]> buffered = new ArrayDeque<>();
    private long bufferedBytes;
    private long received;
    private int chunksReceived;
    private int readPauses;
    private boolean paused;
    private boolean ended;
    private boolean abandoned;

    /** Starts reading {@code clientChunks}, the chunks as the client sends them, back to back. */
    DownstreamBody(List<byte[]> clientChunks, long bufferLimit) {
        this.highWatermark = bufferLimit;
        if (clientChunks.isEmpty()) {
            ended = true;
            return;
        }
        Thread.ofVirtual().name("downstream-body").start(() -> {
            try {
                for (byte[] chunk : clientChunks) {
                    synchronized (this) {
                        while (bufferedBytes > highWatermark && !abandoned) {
                            if (!paused) {
                                paused = true;
                                readPauses++;
                                notifyAll(); // settled() waits for exactly this
                            }
                            wait();
                        }
                        if (abandoned) {
                            return;
                        }
                        buffered.addLast(chunk);
                        bufferedBytes += chunk.length;
                        received += chunk.length;
                        chunksReceived++;
                        notifyAll();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                synchronized (this) {
                    ended = true;
                    notifyAll();
                }
            }
        });
    }

    /** The next held chunk in the client's order, waiting for it to arrive; null once the body has ended. */
    synchronized byte[] next() throws InterruptedException {
        while (buffered.isEmpty() && !ended) {
            wait();
        }
        byte[] chunk = buffered.pollFirst();
        if (chunk == null) {
            return null;
        }
        bufferedBytes -= chunk.length;
        if (paused && bufferedBytes < highWatermark / 2) {
            paused = false; // below the low watermark: read the client again
            notifyAll();
        }
        return chunk;
    }

    /** The body's first bytes as ext_authz buffers them for its Check, and whether more arrived than it sends. */
    record Prefix(byte[] bytes, long received, boolean cut) {}

    /**
     * ext_authz with {@code with_request_body} (envoyproxy/envoy source/extensions/filters/http/ext_authz/ext_authz.cc
     * {@code decodeHeaders}/{@code decodeData}): it raises the stream's buffer limit to {@code max_request_bytes} and
     * holds the body until it ended or more than that arrived; the Check then carries at most {@code max} bytes
     * (check_request_utils.cc {@code setRequestBody}). The bytes stay held: they go upstream if the Check allows.
     */
    synchronized Prefix prefix(long max) throws InterruptedException {
        if (max > highWatermark) {
            highWatermark = max;
            notifyAll();
        }
        while (!ended && bufferedBytes <= max) {
            wait();
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] chunk : buffered) {
            int room = (int) Math.min(chunk.length, max - out.size());
            if (room <= 0) {
                break;
            }
            out.write(chunk, 0, room);
        }
        return new Prefix(out.toByteArray(), received, bufferedBytes > max);
    }

    /** What stands now. */
    synchronized Held held() {
        return new Held(chunksReceived, received, bufferedBytes, readPauses);
    }

    /** Waits until the client has sent all it can send now: the whole body, or up to the watermark. */
    synchronized Held settled() throws InterruptedException {
        while (!ended && !paused) {
            wait();
        }
        return held();
    }

    /** The stream ended early (a local reply): the rest is never read. */
    synchronized void abandon() {
        abandoned = true;
        notifyAll();
    }
}
