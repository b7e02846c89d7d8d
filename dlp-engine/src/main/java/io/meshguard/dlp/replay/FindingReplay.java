package io.meshguard.dlp.replay;

import io.meshguard.dlp.policy.DirectionPolicy;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.scan.DetectorRule;
import java.util.Optional;

/**
 * Decides recorded DLP findings again against a draft {@code dlp.yaml}: the action the draft's profile takes on the
 * finding's detector in its direction, read from the same parsed policy ({@link DlpPolicy}, its profiles' {@link
 * DirectionPolicy} rules) the DLP server scans with. A finding row keeps the profile, direction, detector, confidence
 * and action, never the value or its surroundings; so a draft that changes what reads them (a detector's allowed
 * values or domains, its context words, which profile takes a message) makes the finding not replayable, with the
 * reason. A draft cannot be replayed for values it would find that the policy in force did not: nothing of those was
 * recorded.
 */
public final class FindingReplay {
    /** Confidence is recorded to two decimals: a threshold this close to it cannot be decided. */
    private static final double ROUNDING = 0.005;

    /** One {@code dlp_finding} row as the replay reads it. */
    public record RecordedFinding(
            String requestId,
            String profile,
            io.meshguard.dlp.policy.Direction direction,
            String detector,
            double confidence,
            String action) {}

    /** What replaying one finding gave. */
    public sealed interface Outcome {
        /** The draft takes the same action. */
        record Unchanged() implements Outcome {}

        /**
         * The draft acts otherwise; {@code to} is {@code none} when it would not report the finding at all.
         *
         * @param why what in the draft makes the difference
         */
        record Changed(String from, String to, String why) implements Outcome {}

        /** The recorded facts do not determine the draft's action. */
        record NotReplayable(String reason) implements Outcome {}
    }

    public static final String NONE = "none";

    private final DlpPolicy inForce;
    private final DlpPolicy draft;

    /**
     * @param inForce the policy the findings were recorded under (what the draft's allow lists and context words are
     *     held against)
     */
    public FindingReplay(DlpPolicy inForce, DlpPolicy draft) {
        this.inForce = inForce;
        this.draft = draft;
    }

    public Outcome replay(RecordedFinding f) {
        Optional<DetectorRule> was = rule(inForce, f);
        if (was.isEmpty()) {
            return new Outcome.NotReplayable("the policy in force has no rule for " + f.detector() + " in profile "
                    + f.profile() + " (" + f.direction().id() + "): recorded under another policy");
        }
        Optional<DlpPolicy.Profile> profile = draft.profile(f.profile());
        if (profile.isEmpty()) {
            return new Outcome.NotReplayable("profile " + f.profile()
                    + " is not in the draft: which profile takes the message depends on its route, host, path and"
                    + " content type");
        }
        Optional<DirectionPolicy> direction = f.direction() == io.meshguard.dlp.policy.Direction.REQUEST
                ? profile.get().request()
                : profile.get().response();
        if (direction.isEmpty()) {
            return new Outcome.Changed(
                    f.action(),
                    NONE,
                    "profile " + f.profile() + " no longer scans "
                            + f.direction().id() + "s");
        }
        Optional<DetectorRule> now = direction.get().rules().rules().stream()
                .filter(r -> r.name().equals(f.detector()))
                .findFirst();
        if (now.isEmpty()) {
            return new Outcome.Changed(f.action(), NONE, f.detector() + " is off in the draft");
        }
        DetectorRule d = now.get();
        if (!d.allowValues().equals(was.get().allowValues())
                || !d.allowDomains().equals(was.get().allowDomains())) {
            return new Outcome.NotReplayable("the draft changes " + f.detector()
                    + "'s allowed values or domains, which are held against the value (not recorded)");
        }
        if (!d.context().equals(was.get().context())) {
            return new Outcome.NotReplayable("the draft changes " + f.detector()
                    + "'s context words, which read the text around the value (not recorded)");
        }
        if (Math.abs(d.minConfidence() - f.confidence()) < ROUNDING) {
            return new Outcome.NotReplayable("the draft's confidence threshold for " + f.detector()
                    + " is within the recorded confidence's rounding");
        }
        if (d.minConfidence() > f.confidence()) {
            return new Outcome.Changed(
                    f.action(),
                    NONE,
                    "below the draft's confidence threshold for " + f.detector() + " (" + d.minConfidence() + ")");
        }
        String action = d.action().kind().id();
        return action.equals(f.action())
                ? new Outcome.Unchanged()
                : new Outcome.Changed(f.action(), action, f.detector() + ": " + action + " in the draft");
    }

    private static Optional<DetectorRule> rule(DlpPolicy policy, RecordedFinding f) {
        return policy.profile(f.profile())
                .flatMap(p -> f.direction() == io.meshguard.dlp.policy.Direction.REQUEST ? p.request() : p.response())
                .flatMap(d -> d.rules().rules().stream()
                        .filter(r -> r.name().equals(f.detector()))
                        .findFirst());
    }
}
