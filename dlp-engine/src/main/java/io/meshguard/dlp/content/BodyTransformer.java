package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;
import java.util.Optional;

/**
 * Rewrites one body as it streams: raw bytes in, rewritten bytes out into a {@link ByteSink} as soon as they are
 * decided. After a block, nothing more is produced and {@link #blockedBy()} says why.
 */
public interface BodyTransformer {
    void write(byte[] b, int off, int len);

    /** The body ended; everything held back is decided and written. */
    void finish();

    Optional<Finding> blockedBy();

    /** Bytes received but not written yet (held back for a possible match, or an incomplete event). */
    long heldBack();

    /**
     * A stage with no state of its own between writes (a counter, a sink at the end of a chain): it holds nothing
     * back, has nothing to decide at the end and never blocks by itself.
     */
    interface Forwarding extends BodyTransformer {
        @Override
        default void finish() {}

        @Override
        default Optional<Finding> blockedBy() {
            return Optional.empty();
        }

        @Override
        default long heldBack() {
            return 0;
        }
    }
}
