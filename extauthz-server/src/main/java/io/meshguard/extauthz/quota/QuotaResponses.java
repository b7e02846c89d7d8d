package io.meshguard.extauthz.quota;

import io.meshguard.extauthz.decision.Decision;
import io.meshguard.extauthz.decision.HeaderMutation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a quota verdict adds to a decision: the {@code X-Quota-*} response headers the client sees (limit, remaining
 * and seconds until reset of the quota closest to its limit) and, for {@code allow_and_flag}, the
 * {@link QuotaVerdict#FLAG_HEADER} request header for the upstream. That header is meshguard's: a client-sent one is
 * removed on every allowed request of a policy with quotas (a gateway hop keeps the gateway's).
 */
public final class QuotaResponses {
    public static final String LIMIT = "x-quota-limit";
    public static final String REMAINING = "x-quota-remaining";
    public static final String RESET = "x-quota-reset";
    public static final String NAME = "x-quota-name";

    private QuotaResponses() {}

    /** The decision with the verdict's headers; {@code keepFlag} leaves a trusted gateway's flag header in place. */
    public static Decision apply(Decision d, QuotaVerdict v, boolean keepFlag) {
        Map<String, String> response = d.responseHeaders();
        if (v.closest().isPresent()) {
            QuotaVerdict.Standing s = v.closest().get();
            response = new LinkedHashMap<>(d.responseHeaders());
            response.put(NAME, s.quota());
            response.put(LIMIT, Long.toString(s.limit()));
            response.put(REMAINING, Long.toString(s.remaining()));
            response.put(RESET, Long.toString(s.resetSeconds()));
            response = Map.copyOf(response);
        }
        if (!d.allowed()) {
            return with(d, d.headersSet(), d.headersRemoved(), response);
        }
        List<HeaderMutation> set = d.headersSet();
        List<String> removed = d.headersRemoved();
        if (!v.flagged().isEmpty()) {
            set = new ArrayList<>(set);
            set.add(new HeaderMutation(QuotaVerdict.FLAG_HEADER, String.join(",", v.flagged()), HeaderMutation.Mode.OVERWRITE));
            set = List.copyOf(set);
        } else if (!keepFlag && !removed.contains(QuotaVerdict.FLAG_HEADER)) {
            removed = new ArrayList<>(removed);
            removed.add(QuotaVerdict.FLAG_HEADER);
            removed = List.copyOf(removed);
        }
        return with(d, set, removed, response);
    }

    private static Decision with(Decision d, List<HeaderMutation> set, List<String> removed, Map<String, String> response) {
        return new Decision(d.allowed(), d.status(), d.reason(), d.description(), d.requestId(), d.route(), d.identity(), set,
                removed, response, d.body(), d.tokenFromCache());
    }
}
