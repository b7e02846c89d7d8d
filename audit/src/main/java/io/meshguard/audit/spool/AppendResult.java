package io.meshguard.audit.spool;

/**
 * Outcome of one {@link Spool#append}.
 *
 * @param appended       records now in the spool
 * @param rejected       new records not stored because the spool is full ({@link SpoolFullPolicy#REJECT}, or
 *                       nothing older left to drop)
 * @param droppedOldest  older records deleted to make room ({@link SpoolFullPolicy#DROP_OLDEST})
 */
public record AppendResult(int appended, int rejected, long droppedOldest) {}
