package io.meshguard.audit.als;

import io.meshguard.audit.AuditEvent;
import io.meshguard.contract.ProfileLabels;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Usage per API version from the gateway's access log: one count and one latency observation per gateway request
 * (the gateway's access-log entry; the DLP server's {@code api_call} row for the same request is not counted), and,
 * for deprecated versions, how long until their sunset and who still calls them.
 *
 * <ul>
 *   <li>{@code meshguard_api_requests_total{api,api_version,route,code}}</li>
 *   <li>{@code meshguard_api_request_duration_seconds{api,api_version,route}} (histogram, fixed buckets up to 5 min:
 *       event streams last long)</li>
 *   <li>{@code meshguard_api_version_sunset_seconds{api,api_version}}: seconds until the sunset of a deprecated
 *       version this receiver has seen traffic for (negative once past), read at scrape time</li>
 *   <li>{@code meshguard_api_deprecated_requests_total{api,api_version,tenant,client_id}}: calls to deprecated
 *       versions by caller, so an alert can name the top callers</li>
 * </ul>
 *
 * <p>Every label value is escaped and bounded as the route contract's profile labels are ({@link ProfileLabels}): a
 * misconfigured or hostile source cannot grow the series without bound. Callers whose identity ext_authz did not
 * vouch for count as {@value #UNVERIFIED}; a verified caller whose token has no tenant or no client id gets
 * {@value #NONE} for the missing one.
 */
public final class ApiUsageMetrics {
    public static final String UNVERIFIED = "_unverified";
    /** The caller is known, but its token carried no tenant (or no client id). */
    public static final String NONE = "_none";

    static final int MAX_APIS = 64;
    static final int MAX_VERSIONS = 64;
    static final int MAX_ROUTES = 256;
    static final int MAX_CALLER_LABELS = 100;
    static final int MAX_CALLER_SERIES = 200;
    private static final Duration[] BUCKETS = {
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30),
        Duration.ofSeconds(60), Duration.ofSeconds(300)
    };

    private final MeterRegistry meters;
    private final Clock clock;
    private final ProfileLabels apis = new ProfileLabels(MAX_APIS);
    private final ProfileLabels versions = new ProfileLabels(MAX_VERSIONS);
    private final ProfileLabels routes = new ProfileLabels(MAX_ROUTES);
    private final ProfileLabels tenants = new ProfileLabels(MAX_CALLER_LABELS);
    private final ProfileLabels clients = new ProfileLabels(MAX_CALLER_LABELS);
    private final Map<String, Counter> requests = new ConcurrentHashMap<>();
    private final Map<String, Timer> durations = new ConcurrentHashMap<>();
    private final Map<String, Counter> deprecatedCalls = new ConcurrentHashMap<>();
    /** api \0 version → sunset epoch second of a deprecated version, as the latest entry said. */
    private final Map<String, SunsetGauge> sunsets = new ConcurrentHashMap<>();

    public ApiUsageMetrics(MeterRegistry meters, Clock clock) {
        this.meters = Objects.requireNonNull(meters, "meters");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** Counts one gateway request; {@code event} is the row the entry became (identity already vetted). */
    public void record(UsageTags tags, AuditEvent event) {
        String api = apis.label(tags.api());
        String version = versions.label(tags.apiVersion());
        String route = routes.label(tags.gatewayRoute());
        String code = code(event);
        String key = api + '\u0000' + version + '\u0000' + route;
        requests.computeIfAbsent(key + '\u0000' + code, k -> Counter.builder("meshguard_api_requests_total")
                        .description(
                                "Gateway requests by API, API version, gateway route and HTTP status (one per request, "
                                        + "from the gateway's access log)")
                        .tag("api", api)
                        .tag("api_version", version)
                        .tag("route", route)
                        .tag("code", code)
                        .register(meters))
                .increment();
        if (event.latencyUs().isPresent()) {
            durations
                    .computeIfAbsent(key, k -> Timer.builder("meshguard_api_request_duration_seconds")
                            .description("Gateway request duration (first request byte to last response byte) by API, "
                                    + "API version and gateway route")
                            .tag("api", api)
                            .tag("api_version", version)
                            .tag("route", route)
                            .serviceLevelObjectives(BUCKETS)
                            .register(meters))
                    .record(event.latencyUs().getAsLong(), TimeUnit.MICROSECONDS);
        }
        String versionKey = api + '\u0000' + version;
        if (tags.deprecated() && !tags.sunsetText().isEmpty()) {
            SunsetGauge gauge = sunsets.get(versionKey);
            if (gauge != null) {
                gauge.update(tags.sunsetText());
            } else if (tags.sunset().isPresent()) { // an unparsable date gets no countdown rather than a wrong one
                sunsets.computeIfAbsent(versionKey, k -> new SunsetGauge(api, version))
                        .update(tags.sunsetText());
            }
        } else if (!tags.deprecated() && sunsets.containsKey(versionKey)) {
            SunsetGauge gone = sunsets.remove(versionKey);
            if (gone != null) {
                meters.remove(gone.gauge); // republished as active (or closed): no longer "deprecated with traffic"
            }
        }
        if (tags.deprecated()) {
            deprecatedCall(api, version, event);
        }
    }

    private void deprecatedCall(String api, String version, AuditEvent event) {
        boolean anyIdentity = event.tenant().isPresent() || event.clientId().isPresent();
        String tenant = event.tenant().map(tenants::label).orElse(anyIdentity ? NONE : UNVERIFIED);
        String client = event.clientId().map(clients::label).orElse(anyIdentity ? NONE : UNVERIFIED);
        String key = api + '\u0000' + version + '\u0000' + tenant + '\u0000' + client;
        Counter c = deprecatedCalls.get(key);
        if (c == null) {
            if (deprecatedCalls.size() >= MAX_CALLER_SERIES) {
                tenant = ProfileLabels.OTHER;
                client = ProfileLabels.OTHER;
                key = api + '\u0000' + version + '\u0000' + tenant + '\u0000' + client;
            }
            String t = tenant;
            String cl = client;
            c = deprecatedCalls.computeIfAbsent(key, k -> Counter.builder("meshguard_api_deprecated_requests_total")
                    .description("Gateway requests to deprecated API versions by caller (tenant and client id as "
                            + "ext_authz injected them; " + UNVERIFIED + " when it did not)")
                    .tag("api", api)
                    .tag("api_version", version)
                    .tag("tenant", t)
                    .tag("client_id", cl)
                    .register(meters));
        }
        c.increment();
    }

    /** The HTTP status as a label: 100–599, or "0" when no response was sent (Envoy logs none). */
    private static String code(AuditEvent event) {
        int status = event.status().orElse(0);
        return status >= 100 && status <= 599 ? Integer.toString(status) : "0";
    }

    private final class SunsetGauge {
        volatile Instant sunset = Instant.EPOCH;
        volatile String text = "";
        final Gauge gauge;

        /** Parses only when the published date changed: every entry of the version carries it. */
        void update(String sunsetText) {
            if (!sunsetText.equals(text)) {
                UsageTags.instant(sunsetText).ifPresent(t -> sunset = t);
                text = sunsetText;
            }
        }

        SunsetGauge(String api, String version) {
            this.gauge = Gauge.builder(
                            "meshguard_api_version_sunset_seconds",
                            this,
                            g -> Duration.between(clock.instant(), g.sunset).toMillis() / 1000.0)
                    .description("Seconds until the sunset of a deprecated API version that has had gateway traffic "
                            + "(negative once past)")
                    .tag("api", api)
                    .tag("api_version", version)
                    .register(meters);
        }
    }
}
