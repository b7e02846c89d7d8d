package io.meshguard.audit.trail;

import io.meshguard.audit.trail.AdminTrailVerifier.Finding;
import io.meshguard.audit.trail.AdminTrailVerifier.Problem;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The trail as it is now against the heads the controller signed outside the database. Every signed row above the
 * anchor must still hold its signed hash, none may be above the head, and a signed row below the anchor is gone
 * legitimately only when a later checkpoint saw the anchor pass it and that was at least
 * {@link AdminTrailVerifier#MIN_DROP_AGE} after the anchored rows were first signed (a month past retention).
 */
final class CheckpointCheck {
    private final AdminTrailVerifier.SignedCheckpoints signed;
    private final long anchorSeq;
    private final long headSeq;
    private final Map<Long, String> keptHashes;

    CheckpointCheck(
            AdminTrailVerifier.SignedCheckpoints signed, long anchorSeq, long headSeq, Map<Long, String> keptHashes) {
        this.signed = signed;
        this.anchorSeq = anchorSeq;
        this.headSeq = headSeq;
        this.keptHashes = keptHashes;
    }

    Optional<Finding> firstBad() {
        if (!signed.contents().unreadable().isEmpty()) {
            return Optional.of(new Finding(
                    0,
                    Problem.BAD_CHECKPOINT,
                    "a checkpoint line is unreadable: "
                            + signed.contents().unreadable().get(0)));
        }
        List<TrailCheckpoint> all = signed.contents().checkpoints();
        for (TrailCheckpoint cp : all) {
            TrustedCheckpointKeys.Verdict verdict = signed.keys().check(cp);
            if (verdict == TrustedCheckpointKeys.Verdict.UNKNOWN_KEY) {
                return Optional.of(new Finding(
                        cp.seq(),
                        Problem.BAD_CHECKPOINT,
                        "the checkpoint of row " + cp.seq()
                                + " signed at " + cp.signedAt()
                                + " names key " + cp.keyId()
                                + ", which is not a trusted checkpoint key: it was forged with another key, or that "
                                + "key's public half was not given (a key the controller signed with before a "
                                + "rotation stays trusted)"));
            }
            if (verdict != TrustedCheckpointKeys.Verdict.SIGNED) {
                return Optional.of(new Finding(
                        cp.seq(),
                        Problem.BAD_CHECKPOINT,
                        "the checkpoint of row " + cp.seq()
                                + " signed at " + cp.signedAt()
                                + " is not signed by the checkpoint key: it was forged or "
                                + "altered, or the key given is not the controller's"));
            }
        }
        Optional<TrailCheckpoint> highest = all.stream().max(Comparator.comparingLong(TrailCheckpoint::seq));
        if (highest.isPresent() && highest.get().seq() > headSeq) {
            TrailCheckpoint cp = highest.get();
            return Optional.of(new Finding(
                    headSeq + 1,
                    Problem.TRUNCATED,
                    "a checkpoint signed at " + cp.signedAt()
                            + " says the trail reached row " + cp.seq() + ", but it ends at row " + headSeq + ": rows "
                            + (headSeq + 1) + " to " + cp.seq() + " were removed with the head"));
        }
        List<TrailCheckpoint> bySeq = all.stream()
                .sorted(Comparator.comparingLong(TrailCheckpoint::seq))
                .toList();
        for (TrailCheckpoint cp : bySeq) {
            if (cp.seq() > anchorSeq && !cp.rowHash().equals(keptHashes.get(cp.seq()))) {
                return Optional.of(new Finding(
                        cp.seq(),
                        Problem.REWRITTEN,
                        "row " + cp.seq()
                                + " no longer has the hash signed for it at " + cp.signedAt()
                                + ": the trail up to it was rewritten"));
            }
        }
        List<TrailCheckpoint> byTime = all.stream()
                .sorted(Comparator.comparing(TrailCheckpoint::signedAt).thenComparingLong(TrailCheckpoint::seq))
                .toList();
        // prefix maxima over time: the first checkpoint that saw the anchor (or the head) reach a row, by binary search
        long[] anchorsSoFar = new long[byTime.size()];
        long[] headsSoFar = new long[byTime.size()];
        for (int i = 0; i < byTime.size(); i++) {
            anchorsSoFar[i] =
                    Math.max(i == 0 ? 0 : anchorsSoFar[i - 1], byTime.get(i).anchorSeq());
            headsSoFar[i] =
                    Math.max(i == 0 ? 0 : headsSoFar[i - 1], byTime.get(i).seq());
        }
        for (TrailCheckpoint cp : bySeq) {
            if (cp.seq() == 0 || cp.seq() > anchorSeq) {
                continue;
            }
            int sawDrop = firstReaching(anchorsSoFar, cp.seq());
            if (sawDrop < 0) {
                return Optional.of(new Finding(
                        cp.seq(),
                        Problem.DROPPED_UNWITNESSED,
                        "row " + cp.seq()
                                + ", signed at " + cp.signedAt() + ", is gone under the anchor at row " + anchorSeq
                                + " that no checkpoint has seen: rows were deleted under an anchor written since the last "
                                + "checkpoint (if the controller was down, verify again after it signs)"));
            }
            TrailCheckpoint k = byTime.get(sawDrop);
            TrailCheckpoint firstSigned = byTime.get(firstReaching(headsSoFar, k.anchorSeq()));
            Duration age = Duration.between(firstSigned.signedAt(), k.signedAt());
            if (age.compareTo(AdminTrailVerifier.MIN_DROP_AGE) < 0) {
                return Optional.of(new Finding(
                        cp.seq(),
                        Problem.DROPPED_EARLY,
                        "rows up to " + k.anchorSeq()
                                + " were anchored away by " + k.signedAt() + ", " + age.toDays() + " days after row "
                                + k.anchorSeq() + " was first signed (" + firstSigned.signedAt()
                                + "): months within the "
                                + "retention (at least 13) were dropped"));
            }
        }
        return Optional.empty();
    }

    /** The first index whose running maximum reaches {@code seq}, or -1. */
    private static int firstReaching(long[] runningMax, long seq) {
        int lo = 0;
        int hi = runningMax.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (runningMax[mid] >= seq) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo < runningMax.length ? lo : -1;
    }
}
