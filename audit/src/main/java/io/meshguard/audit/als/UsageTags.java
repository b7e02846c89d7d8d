package io.meshguard.audit.als;

import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.meshguard.contract.RouteContract.AccessLogTags;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;

/**
 * What a gateway access-log entry says about the route it matched, from the custom tags the xDS controller asks
 * Envoy to fill from the route's metadata ({@link AccessLogTags}). Entries from other loggers (Istio sidecars,
 * hand-written Envoy config) carry none: {@link #of} is empty for them and they are not counted as API usage.
 *
 * @param gatewayRoute the gateway route's name ({@value AccessLogTags#CLOSED_ROUTE} for a closed version's answer)
 * @param lifecycle    {@code active | deprecated | sunset | retired}, as published
 * @param sunsetText   the version's sunset as the route metadata has it (ISO-8601), empty when it has none
 * @param authzChecked whether ext_authz decides this route's requests (so allowed ones carry its identity headers)
 */
public record UsageTags(
        String api, String apiVersion, String gatewayRoute, String lifecycle, String sunsetText, boolean authzChecked) {

    private static final String API = AccessLogTags.tag(AccessLogTags.API);
    private static final String API_VERSION = AccessLogTags.tag(AccessLogTags.API_VERSION);
    private static final String GATEWAY_ROUTE = AccessLogTags.tag(AccessLogTags.GATEWAY_ROUTE);
    private static final String LIFECYCLE = AccessLogTags.tag(AccessLogTags.LIFECYCLE);
    private static final String SUNSET = AccessLogTags.tag(AccessLogTags.SUNSET);
    private static final String AUTHZ = AccessLogTags.tag(AccessLogTags.AUTHZ);

    /** The tags of an entry whose route carried at least the API and the version; empty otherwise. */
    public static Optional<UsageTags> of(AccessLogCommon common) {
        Map<String, String> tags = common.getCustomTagsMap();
        String api = tags.getOrDefault(API, "");
        String version = tags.getOrDefault(API_VERSION, "");
        if (api.isEmpty() || version.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new UsageTags(
                api,
                version,
                tags.getOrDefault(GATEWAY_ROUTE, ""),
                tags.getOrDefault(LIFECYCLE, ""),
                tags.getOrDefault(SUNSET, ""),
                AccessLogTags.AUTHZ_CHECKED.equals(tags.get(AUTHZ))));
    }

    public boolean deprecated() {
        return "deprecated".equals(lifecycle);
    }

    /** The sunset instant; empty when there is none or it is not an ISO-8601 instant. */
    public Optional<Instant> sunset() {
        return instant(sunsetText);
    }

    static Optional<Instant> instant(String s) {
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(s));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
