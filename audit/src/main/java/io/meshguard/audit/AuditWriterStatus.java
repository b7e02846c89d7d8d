package io.meshguard.audit;

/**
 * A snapshot of the writer for readiness and status pages.
 *
 * @param databaseReachable the last database attempt succeeded
 * @param spooling          events are waiting on disk (database away, slow, or replay in progress)
 * @param spoolBytes        bytes on disk in the spool
 * @param spoolSegments     segment files in the spool
 * @param queued            events in memory waiting for a batch
 */
public record AuditWriterStatus(
        boolean databaseReachable, boolean spooling, long spoolBytes, int spoolSegments, int queued) {

    /** One line for logs and {@code /readyz}. */
    public String describe() {
        if (!spooling) {
            return "audit: writing to PostgreSQL, " + queued + " queued";
        }
        return "audit: spool in use (" + spoolBytes + " bytes in " + spoolSegments + " segment(s)), PostgreSQL "
                + (databaseReachable ? "reachable, replaying" : "unreachable");
    }
}
