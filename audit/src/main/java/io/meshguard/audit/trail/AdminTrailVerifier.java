package io.meshguard.audit.trail;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Walks the admin trail and names the first row that was altered, removed or inserted. What it proves alone: every
 * kept row is what was appended, in order, with nothing missing between the newest anchor (or the start) and the
 * head, and the anchor is vouched for by the chain (a {@code trail_retention} row records its seq and hash, so an
 * anchor written by hand does not verify). What it cannot prove alone: that the newest rows were not cut off together
 * with the head, or the chain rewritten by someone who can write the database and recompute hashes. For that it
 * checks the signed checkpoints the controller wrote outside the database (TrailCheckpointer): every signed head must
 * still be there with its hash unless a signed checkpoint saw it anchored away at least {@link #MIN_DROP_AGE} after it
 * was first signed; a head recorded by hand ({@code expected}) is checked the same way.
 */
public final class AdminTrailVerifier {
    /** What went wrong, and where first. */
    public enum Problem {
        /** The row's content does not match its hash. */
        ALTERED,
        /** Sequence numbers jump: rows in between are gone. */
        REMOVED,
        /** The row does not chain to the row before it: a row was put in, or the one before was rewritten. */
        INSERTED,
        /** The chain ends before the head, or the head does not match the last row: the newest rows were cut. */
        TRUNCATED,
        /** A head recorded earlier no longer matches its row. */
        REWRITTEN,
        /** The anchor the chain starts from is recorded by no trail row: it was written by hand. */
        ANCHOR_UNVOUCHED,
        /** A signed row is gone under an anchor no checkpoint has seen. */
        DROPPED_UNWITNESSED,
        /** A signed row was anchored away sooner than any retention allows. */
        DROPPED_EARLY,
        /** A checkpoint is unreadable or not signed by the checkpoint key. */
        BAD_CHECKPOINT,
        /** A row the trail recorded (by its digest) no longer matches what was recorded: it was changed since. */
        RECORD_ALTERED,
        /** A row that must have been recorded in the trail when it was written has no trail row: it was put in. */
        RECORD_UNTRAILED,
        /** A row the trail recorded is gone. */
        RECORD_REMOVED
    }

    /**
     * Rows kept outside the trail that trail rows recorded when they were written (a published revision, say), checked
     * against those records in the walk's snapshot once the chain itself verified: the chain and its signed
     * checkpoints vouch for the records, the records for the rows.
     */
    @FunctionalInterface
    public interface RecordedRows {
        /** The first row that no longer matches its record, lacks one, or is gone. */
        Optional<Finding> firstBad(Connection c) throws SQLException;
    }

    /**
     * The checkpoints read from their directory, and the test that a checkpoint was signed by the checkpoint key.
     */
    public record SignedCheckpoints(CheckpointDirectory.Contents contents, TrustedCheckpointKeys keys) {
        /** Checked with the public keys (an auditor's copies, {@code meshguard audit verify --checkpoint-key}). */
        public SignedCheckpoints(CheckpointDirectory.Contents contents, java.util.List<java.security.PublicKey> keys) {
            this(contents, new TrustedCheckpointKeys(keys));
        }
    }

    /**
     * Where a verifier reads checkpoints by itself: on the admin plane, the controller's own directory checked with its
     * own key (TrailCheckpointer#signedCheckpoints), so the console's and {@code meshguard audit verify}'s walk sees
     * what the break-glass {@code --direct-db --checkpoints} walk sees.
     */
    @FunctionalInterface
    public interface CheckpointSource {
        SignedCheckpoints read() throws java.io.IOException;
    }

    /**
     * The least time between a row's first checkpoint and the checkpoint that first shows it anchored away: retention
     * keeps at least 13 full months after the current one, so a month is never dropped sooner than 13 months after its
     * last row; a year leaves room for a checkpointer that was down for a while.
     */
    public static final java.time.Duration MIN_DROP_AGE = java.time.Duration.ofDays(365);

    /**
     * The walk's result.
     *
     * @param firstBad the first bad row and what is wrong with it, with a sentence for people
     */
    public record Report(long rowsChecked, long headSeq, String headHash, Optional<Finding> firstBad) {
        public boolean intact() {
            return firstBad.isEmpty();
        }
    }

    public record Finding(long seq, Problem problem, String explanation) {}

    /** A head recorded earlier: row {@code seq} had hash {@code rowHash}. */
    public record Head(long seq, String rowHash) {
        /** Reads {@code SEQ:HASH}. */
        public static Head parse(String text) {
            int colon = text.indexOf(':');
            if (colon <= 0 || !text.substring(colon + 1).matches("[0-9a-f]{64}")) {
                throw new IllegalArgumentException("a head is SEQ:HASH (64 hex digits), got '" + text + "'");
            }
            return new Head(Long.parseLong(text.substring(0, colon)), text.substring(colon + 1));
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private final DataSource dataSource;
    private final java.util.List<RecordedRows> recorded;
    private final Optional<CheckpointSource> ownCheckpoints;

    /** Verifies the trail alone. */
    public AdminTrailVerifier(DataSource dataSource) {
        this(dataSource, java.util.List.of());
    }

    /** Verifies the trail, then each kind of row it recorded. */
    public AdminTrailVerifier(DataSource dataSource, java.util.List<RecordedRows> recorded) {
        this(dataSource, recorded, Optional.empty());
    }

    /**
     * Verifies the trail against the checkpoints {@code ownCheckpoints} reads whenever no others are given, then each
     * kind of row it recorded.
     */
    public AdminTrailVerifier(
            DataSource dataSource, java.util.List<RecordedRows> recorded, Optional<CheckpointSource> ownCheckpoints) {
        this.dataSource = dataSource;
        this.recorded = java.util.List.copyOf(recorded);
        this.ownCheckpoints = ownCheckpoints;
    }

    /**
     * Verifies the chain and, when it has them, its own checkpoints (read before the walk's snapshot). An unreadable
     * checkpoint directory is an IllegalStateException: no verdict without the checkpoints the verifier was given.
     */
    public Report verify(Optional<Head> expected) throws SQLException {
        Optional<SignedCheckpoints> own;
        try {
            own = ownCheckpoints.isEmpty()
                    ? Optional.empty()
                    : Optional.of(ownCheckpoints.get().read());
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot read the controller's trail checkpoints: " + e.getMessage(), e);
        }
        return verify(expected, own);
    }

    /** Whether {@link #verify(Optional)} checks the controller's own signed checkpoints. */
    public boolean checksOwnCheckpoints() {
        return ownCheckpoints.isPresent();
    }

    /**
     * Verifies the chain and, when given, the checkpoints. Read the checkpoints before calling: a checkpoint written
     * after this walk's snapshot could name rows the snapshot does not hold yet.
     */
    public Report verify(Optional<Head> expected, Optional<SignedCheckpoints> checkpoints) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                Report chain = walk(c, expected, checkpoints);
                for (RecordedRows rows : recorded) {
                    if (!chain.intact()) {
                        break;
                    }
                    Optional<Finding> bad = rows.firstBad(c);
                    if (bad.isPresent()) {
                        return new Report(chain.rowsChecked(), chain.headSeq(), chain.headHash(), bad);
                    }
                }
                return chain;
            } finally {
                c.rollback();
            }
        }
    }

    private Report walk(Connection c, Optional<Head> expected, Optional<SignedCheckpoints> checkpoints)
            throws SQLException {
        long anchorSeq = 0;
        String prevHash = TrailHash.GENESIS;
        try (PreparedStatement ps = c.prepareStatement(
                        "select up_to_seq, row_hash from admin_trail_anchor order by up_to_seq desc limit 1");
                ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                anchorSeq = rs.getLong(1);
                prevHash = rs.getString(2);
            }
        }
        long headSeq;
        String headHash;
        try (PreparedStatement ps = c.prepareStatement("select seq, row_hash from admin_trail_head where id = 1");
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            headSeq = rs.getLong(1);
            headHash = rs.getString(2);
        }
        final String anchorHash = prevHash;
        java.util.Set<Long> signedSeqs = new java.util.HashSet<>();
        checkpoints.ifPresent(cs -> cs.contents().checkpoints().forEach(cp -> signedSeqs.add(cp.seq())));
        java.util.Map<Long, String> keptHashes = new java.util.HashMap<>();
        boolean vouched = anchorSeq == 0;
        long expectedSeq = anchorSeq + 1;
        long checked = 0;
        Optional<Finding> bad = Optional.empty();
        try (PreparedStatement ps =
                c.prepareStatement("select * from admin_trail where seq > ? order by seq, occurred_at")) {
            ps.setLong(1, anchorSeq);
            ps.setFetchSize(1000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next() && bad.isEmpty()) {
                    long seq = rs.getLong("seq");
                    checked++;
                    if (seq < expectedSeq) {
                        // a partitioned trail's key is (occurred_at, seq): a second row with a taken number can exist
                        bad = Optional.of(new Finding(
                                seq,
                                Problem.INSERTED,
                                "row " + seq + " appears twice (in " + "two months): one of them was put in"));
                    } else if (seq != expectedSeq) {
                        bad = Optional.of(new Finding(
                                expectedSeq,
                                Problem.REMOVED,
                                "rows " + expectedSeq + " to "
                                        + (seq - 1) + " are missing"
                                        + (anchorSeq > 0 && expectedSeq == anchorSeq + 1
                                                ? " (after the anchor at row " + anchorSeq + ")"
                                                : "")));
                    } else if (!rs.getString("prev_hash").equals(prevHash)) {
                        bad = Optional.of(new Finding(
                                seq,
                                Problem.INSERTED,
                                "row " + seq + " does not chain to row " + (seq - 1)
                                        + ": a row was put in here, or row " + (seq - 1) + " was rewritten"));
                    } else {
                        AdminTrailEntry e = entry(rs);
                        if (!TrailHash.of(seq, e, prevHash).equals(rs.getString("row_hash"))) {
                            bad = Optional.of(
                                    new Finding(
                                            seq,
                                            Problem.ALTERED,
                                            "row " + seq
                                                    + "'s content does not match its hash: it was changed after it was written"));
                        } else if (e.action().equals(AdminTrail.RETENTION_ACTION)
                                && Long.toString(anchorSeq).equals(e.details().get("anchor_seq"))
                                && anchorHash.equals(e.details().get("anchor_hash"))) {
                            vouched = true;
                        }
                    }
                    if (signedSeqs.contains(seq)) {
                        keptHashes.put(seq, rs.getString("row_hash"));
                    }
                    prevHash = rs.getString("row_hash");
                    expectedSeq = seq + 1;
                }
            }
        }
        long lastSeq = expectedSeq - 1;
        if (bad.isEmpty() && (lastSeq != headSeq || !prevHash.equals(headHash))) {
            bad = Optional.of(new Finding(
                    lastSeq + 1,
                    Problem.TRUNCATED,
                    "the chain ends at row " + lastSeq
                            + " but its head says row " + headSeq
                            + ": the newest rows were removed, or rows were added "
                            + "without the head"));
        }
        if (bad.isEmpty() && !vouched) {
            bad = Optional.of(new Finding(
                    anchorSeq,
                    Problem.ANCHOR_UNVOUCHED,
                    "the anchor at row " + anchorSeq
                            + " is recorded by no trail row (" + AdminTrail.RETENTION_ACTION
                            + " with its seq and hash): it was "
                            + "written by hand, and the rows up to " + anchorSeq + " were removed under it"));
        }
        if (bad.isEmpty() && checkpoints.isPresent()) {
            bad = new CheckpointCheck(checkpoints.get(), anchorSeq, headSeq, keptHashes).firstBad();
        }
        if (bad.isEmpty() && expected.isPresent()) {
            Head h = expected.get();
            if (h.seq() > headSeq) {
                bad = Optional.of(new Finding(
                        h.seq(),
                        Problem.TRUNCATED,
                        "the recorded head is row " + h.seq() + " but the trail ends at row " + headSeq
                                + ": the newest rows and the head were removed"));
            } else if (h.seq() > anchorSeq) {
                try (PreparedStatement ps = c.prepareStatement("select row_hash from admin_trail where seq = ?")) {
                    ps.setLong(1, h.seq());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next() || !rs.getString(1).equals(h.rowHash())) {
                            bad = Optional.of(
                                    new Finding(
                                            h.seq(),
                                            Problem.REWRITTEN,
                                            "row " + h.seq()
                                                    + " no longer has the hash recorded for it: the trail up to it was rewritten"));
                        }
                    }
                }
            }
        }
        return new Report(checked, headSeq, headHash, bad);
    }

    private static AdminTrailEntry entry(ResultSet rs) throws SQLException {
        Map<String, String> details;
        try {
            details = JSON.readValue(rs.getString("details"), new TypeReference<Map<String, String>>() {});
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            details = Map.of("unreadable", rs.getString("details"));
        }
        return new AdminTrailEntry(
                rs.getTimestamp("occurred_at").toInstant(),
                rs.getString("actor"),
                rs.getString("auth_method"),
                opt(rs, "tenant"),
                opt(rs, "role_used"),
                opt(rs, "source_address"),
                opt(rs, "request_id"),
                rs.getString("action"),
                rs.getString("target"),
                rs.getString("outcome"),
                opt(rs, "before_digest"),
                opt(rs, "after_digest"),
                details);
    }

    private static Optional<String> opt(ResultSet rs, String column) throws SQLException {
        return Optional.ofNullable(rs.getString(column));
    }
}
