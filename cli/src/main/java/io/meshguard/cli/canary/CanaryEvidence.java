package io.meshguard.cli.canary;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/**
 * Where a canary's pass is proven: the audit rows meshguard's own servers wrote for that one request, found by the
 * canary's trace id (a fresh random W3C trace id per request, which the Check and the DLP record with their rows). The
 * application behind a route cannot write these rows, so an answer that merely looks like meshguard's proves nothing
 * until they are there.
 */
@FunctionalInterface
public interface CanaryEvidence {
    /** One audit row, as much of it as the verdict reads. */
    record Row(String kind, String decision, String reason, String authority, String source) {}

    /**
     * The audit rows carrying {@code traceId} written since {@code since}.
     *
     * @throws IOException when the audit log cannot be read (nothing is proven either way)
     */
    List<Row> rows(String traceId, Instant since) throws IOException, InterruptedException;
}
