package io.meshguard.authz.replay;

import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import java.time.Instant;

/**
 * The replay facts of one decision, not yet written: the immutable inputs of {@link RecordedDecision#of} held until
 * the audit writer's thread asks for {@link #json()}, so the Check thread does not pay for them. Safe to read from any
 * thread; the text is made once.
 */
public final class ReplayFacts {
    private final HttpRequestView request;
    private final Decision decision;
    private final Instant time;
    private final KeptFacts kept;
    private volatile String json;

    public ReplayFacts(HttpRequestView request, Decision decision, Instant time, KeptFacts kept) {
        this.request = request;
        this.decision = decision;
        this.time = time;
        this.kept = kept;
    }

    /** {@link RecordedDecision#toJson()} of the decision, made on first call. */
    public String json() {
        String j = json;
        if (j == null) {
            j = RecordedDecision.of(request, decision, time, kept).toJson();
            json = j; // two threads may both make it: the same text either way
        }
        return j;
    }
}
