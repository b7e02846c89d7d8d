package io.meshguard.authz.quota;

import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.contract.OwnedHeaderNames;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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

    /** The gateway-hop header naming the quotas the gateway charged ({@link OwnedHeaderNames#QUOTA_CHARGED}). */
    private static final String CHARGED = OwnedHeaderNames.QUOTA_CHARGED;

    private QuotaResponses() {}

    /** The quotas a trusted gateway charged for this request; call only on a gateway hop. */
    public static Set<String> chargedAtGateway(HttpRequestView request) {
        Set<String> out = new HashSet<>();
        for (String line : request.all(CHARGED)) {
            for (String name : line.split(",")) {
                if (!name.isBlank()) {
                    out.add(name.trim());
                }
            }
        }
        return Set.copyOf(out);
    }

    /**
     * The decision with the verdict's headers; {@code keepFlag} leaves a trusted gateway's flag header in place;
     * {@code charged} names the quotas charged here for the hop behind (set on an allow, else the header stays removed).
     */
    public static Decision apply(Decision d, QuotaVerdict v, boolean keepFlag, List<String> charged) {
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
            return d.withHeaders(d.headersSet(), d.headersRemoved(), response);
        }
        List<HeaderMutation> set = d.headersSet();
        List<String> removed = d.headersRemoved();
        if (!v.flagged().isEmpty()) {
            set = new ArrayList<>(set);
            set.add(new HeaderMutation(
                    QuotaVerdict.FLAG_HEADER, String.join(",", v.flagged()), HeaderMutation.Mode.OVERWRITE));
            set = List.copyOf(set);
        } else if (!keepFlag && !removed.contains(QuotaVerdict.FLAG_HEADER)) {
            removed = new ArrayList<>(removed);
            removed.add(QuotaVerdict.FLAG_HEADER);
            removed = List.copyOf(removed);
        }
        if (!charged.isEmpty()) {
            set = new ArrayList<>(set);
            set.add(new HeaderMutation(CHARGED, String.join(",", charged), HeaderMutation.Mode.OVERWRITE));
            set = List.copyOf(set);
            removed = removed.stream().filter(n -> !n.equals(CHARGED)).toList();
        }
        return d.withHeaders(set, removed, response);
    }
}
