package io.meshguard.audit.als;

import com.google.protobuf.Duration;
import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.RequestMethod;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.data.accesslog.v3.ResponseFlags;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.PathPolicy;
import io.meshguard.audit.TraceContext;
import io.meshguard.contract.RouteContract.AccessLogTags;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Maps one Envoy HTTP access-log entry to an {@code api_call} event.
 *
 * <p>Streams (response {@code content-type: text/event-stream}) become a summary only: path without query
 * string, status, latency, tenant, subject, client/agent, ids, API and version, the verified sender; no byte counts and no other details.
 *
 * <p>An entry from the gateway the xDS controller configures carries its route's API, version and gateway route as
 * custom tags ({@link UsageTags}): the row's {@code route} is then the gateway route's name (the name the DLP
 * server's row for the same request carries too), {@code details.api} and {@code details.api_version} say which
 * version was called, and Envoy's own route name moves to {@code details.envoy_route}. Its identity headers count
 * only when ext_authz checked the route and did not deny the request.
 */
public final class AccessLogMapper {
    /** Details keys of the API and version on a gateway's {@code api_call} row (read by the usage report). */
    public static final String API_DETAIL = "api";

    public static final String API_VERSION_DETAIL = "api_version";

    /**
     * Details key of the route contract's {@code authz} tag ({@code checked | none}) on a gateway's {@code api_call}
     * row: whether the route hands its requests to ext_authz (and, with it, to the DLP server), read by the coverage
     * report.
     */
    public static final String AUTHZ_DETAIL = "authz";

    /**
     * Details key of the upstream host Envoy chose ({@code upstream_remote_address}); absent when no host was chosen
     * (the request never left the proxy), which proof of coverage reads.
     */
    public static final String UPSTREAM_HOST_DETAIL = "upstream_host";

    /** Details keys of the row's verified sender ({@link AccessLogSenders}) and its kind. */
    public static final String REPORTER_DETAIL = "reporter";

    public static final String REPORTER_KIND_DETAIL = "reporter_kind";

    /**
     * Details key of the nonce extauthz returned with the allow that let this stream through, as the proxy logged it
     * from its dynamic metadata ({@link AccessLogTags#EXT_AUTHZ_METADATA_NAMESPACE}); absent when no such Check ran on
     * the stream. The decision's row keeps its nonce under the same key; proof of coverage joins the two on it.
     */
    public static final String NONCE_DETAIL = AccessLogTags.AUTHZ_NONCE;

    /** The longest nonce taken from a row: extauthz's are 22 characters; anything longer is no nonce of ours. */
    static final int NONCE_MAX = 64;

    /** Details key of a canary's kind ({@code x-meshguard-canary}: {@code expired_token | test_card}). */
    public static final String CANARY_DETAIL = "canary";

    private final AccessLogHeaders headers;
    private final PathPolicy paths;

    public AccessLogMapper(AccessLogHeaders headers, PathPolicy paths) {
        this.headers = Objects.requireNonNull(headers, "headers");
        this.paths = Objects.requireNonNull(paths, "paths");
    }

    /**
     * @param node     the Envoy node id from the stream's identifier ("" if none was sent)
     * @param logName  the access logger's {@code log_name} ("" if none)
     * @param sender   the stream's verified sender: named on the row, and it decides whether the row's identity
     *     headers count
     * @throws MalformedEntryException when the entry has no request or no valid start time
     */
    public AuditEvent toEvent(HTTPAccessLogEntry entry, String node, String logName, AccessLogSenders.Sender sender)
            throws MalformedEntryException {
        if (!entry.hasRequest()) {
            throw new MalformedEntryException("entry has no request properties");
        }
        AccessLogCommon common = entry.getCommonProperties();
        if (!common.hasStartTime()) {
            throw new MalformedEntryException("entry has no start_time");
        }
        Instant start = instant(common.getStartTime());
        HTTPRequestProperties request = entry.getRequest();
        HTTPResponseProperties response = entry.getResponse();
        Map<String, String> requestHeaders = lowerKeys(request.getRequestHeadersMap());
        Map<String, String> responseHeaders = lowerKeys(response.getResponseHeadersMap());

        String contentType = responseHeaders.getOrDefault(headers.responseContentType(), "");
        boolean stream = contentType.toLowerCase(Locale.ROOT).startsWith("text/event-stream");

        Optional<UsageTags> usage = UsageTags.of(common);
        boolean extAuthzDenied =
                common.hasResponseFlags() && common.getResponseFlags().hasUnauthorizedDetails();
        // On a gateway route the identity headers are ext_authz's only when it ran and allowed the request;
        // otherwise they are what the client sent, and a client must not pick the tenant its calls count for.
        // And a sender speaks for its own proxy's requests only: a sidecar's rows about another namespace's node keep
        // no identity.
        boolean identityTrusted =
                usage.map(u -> u.authzChecked() && !extAuthzDenied).orElse(true) && sender.mayReportIdentityFor(node);
        AuditEvent.Builder event = AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(start)
                .requestId(firstNonEmpty(request.getRequestId(), requestHeaders.get(headers.requestId())))
                .traceId(TraceContext.traceId(requestHeaders.get(headers.traceparent()))
                        .orElse(null))
                .source(nonEmpty(requestHeaders.get(headers.source())))
                .callerType(nonEmpty(requestHeaders.get(headers.callerType())))
                .method(method(request.getRequestMethod()))
                .authority(nonEmpty(request.getAuthority()))
                .route(usage.map(UsageTags::gatewayRoute)
                        .filter(r -> !r.isEmpty())
                        .orElse(nonEmpty(common.getRouteName())))
                .stream(stream)
                .detail(REPORTER_DETAIL, sender.id())
                .detail(REPORTER_KIND_DETAIL, sender.kind().label());
        if (identityTrusted) {
            event.tenant(nonEmpty(requestHeaders.get(headers.tenant())))
                    .subject(nonEmpty(requestHeaders.get(headers.subject())))
                    .clientId(nonEmpty(requestHeaders.get(headers.clientId())));
        }
        // a canary of meshguard canary: recorded so its rows can be told apart; only the known kinds, so the header
        // cannot put arbitrary client text into the details
        String canary = requestHeaders.get(AccessLogTags.CANARY_HEADER);
        if (canary != null && AccessLogTags.CANARY_KINDS.contains(canary)) {
            event.detail(CANARY_DETAIL, canary);
        }
        usage.ifPresent(u -> {
            // what `meshguard api usage` groups by; also on stream summaries (names, not content)
            event.detail(API_DETAIL, u.api()).detail(API_VERSION_DETAIL, u.apiVersion());
            event.detail(AUTHZ_DETAIL, u.authzChecked() ? AccessLogTags.AUTHZ_CHECKED : AccessLogTags.AUTHZ_NONE);
            if (!common.getRouteName().isEmpty()) {
                event.detail("envoy_route", common.getRouteName());
            }
        });
        String path = firstNonEmpty(request.getOriginalPath(), request.getPath());
        if (path != null) {
            event.path(paths.apply(path, stream));
        }
        if (response.hasResponseCode()) {
            event.status(response.getResponseCode().getValue());
        }
        Duration latency = common.hasDuration()
                ? common.getDuration()
                : common.hasTimeToLastDownstreamTxByte() ? common.getTimeToLastDownstreamTxByte() : null;
        if (latency != null) {
            event.latencyUs(micros(latency));
        }
        if (common.hasResponseFlags()) {
            ResponseFlags flags = common.getResponseFlags();
            if (flags.hasUnauthorizedDetails()) {
                event.decision("deny").reason("ext_authz_denied");
            } else if (flags.getRateLimited()) {
                event.decision("deny").reason("rate_limited");
            }
        }
        if (!node.isEmpty()) {
            event.detail("node", node);
        }
        // an id, so a stream summary keeps it too: its Check is proven by it
        nonce(common).ifPresent(n -> event.detail(NONCE_DETAIL, n));
        if (stream) {
            return event.build(); // a summary: no sizes, no query string, no further details
        }
        event.requestBytes(request.getRequestBodyBytes()).responseBytes(response.getResponseBodyBytes());
        if (!logName.isEmpty()) {
            event.detail("log_name", logName);
        }
        if (!response.getResponseCodeDetails().isEmpty()) {
            event.detail("response_code_details", response.getResponseCodeDetails());
        }
        if (!common.getUpstreamCluster().isEmpty()) {
            event.detail("upstream_cluster", common.getUpstreamCluster());
        }
        if (common.hasUpstreamRemoteAddress()
                && common.getUpstreamRemoteAddress().hasSocketAddress()) {
            var host = common.getUpstreamRemoteAddress().getSocketAddress();
            event.detail(UPSTREAM_HOST_DETAIL, host.getAddress() + ":" + host.getPortValue());
        }
        List<String> flagNames = flagNames(common);
        if (!flagNames.isEmpty()) {
            event.detail("response_flags", flagNames);
        }
        if (entry.getProtocolVersion() != HTTPAccessLogEntry.HTTPVersion.PROTOCOL_UNSPECIFIED) {
            event.detail("protocol", entry.getProtocolVersion().name());
        }
        return event.build();
    }

    /**
     * The nonce in the stream's ext_authz dynamic metadata, a string of at most {@value #NONCE_MAX} characters. Only
     * filters on the proxy set dynamic metadata, never the client: the value is the Check's own answer.
     */
    static Optional<String> nonce(AccessLogCommon common) {
        if (!common.hasMetadata()) {
            return Optional.empty();
        }
        Struct authz = common.getMetadata().getFilterMetadataMap().get(AccessLogTags.EXT_AUTHZ_METADATA_NAMESPACE);
        if (authz == null) {
            return Optional.empty();
        }
        Value v = authz.getFieldsMap().get(AccessLogTags.AUTHZ_NONCE);
        if (v == null || !v.hasStringValue()) {
            return Optional.empty();
        }
        String n = v.getStringValue();
        return n.isEmpty() || n.length() > NONCE_MAX ? Optional.empty() : Optional.of(n);
    }

    private static Instant instant(Timestamp t) throws MalformedEntryException {
        if (t.getSeconds() <= 0 || t.getNanos() < 0 || t.getNanos() > 999_999_999) {
            throw new MalformedEntryException(
                    "start_time is not a valid timestamp: " + t.getSeconds() + "s " + t.getNanos() + "ns");
        }
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    private static long micros(Duration d) {
        return Math.max(0, d.getSeconds() * 1_000_000L + d.getNanos() / 1000);
    }

    private static String method(RequestMethod m) {
        return switch (m) {
            case METHOD_UNSPECIFIED, UNRECOGNIZED -> null;
            default -> m.name();
        };
    }

    private static List<String> flagNames(AccessLogCommon common) {
        List<String> names = new ArrayList<>();
        if (!common.hasResponseFlags()) {
            return names;
        }
        common.getResponseFlags().getAllFields().forEach((field, value) -> {
            if (Boolean.TRUE.equals(value) || field.getName().equals("unauthorized_details")) {
                names.add(field.getName());
            }
        });
        return names;
    }

    private static Map<String, String> lowerKeys(Map<String, String> in) {
        Map<String, String> out = new HashMap<>(in.size() * 2);
        in.forEach((k, v) -> out.put(k.toLowerCase(Locale.ROOT), v));
        return out;
    }

    private static String nonEmpty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    private static String firstNonEmpty(String a, String b) {
        return a != null && !a.isEmpty() ? a : nonEmpty(b);
    }
}
