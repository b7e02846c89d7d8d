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
}
