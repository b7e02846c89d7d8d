package io.meshguard.emulator;

import com.google.protobuf.Struct;
import com.google.protobuf.Timestamp;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.grpc.ManagedChannel;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The ext_authz HTTP filter's Check (source/extensions/filters/http/ext_authz/ext_authz.cc) and the request it builds
 * (source/extensions/filters/common/ext_authz/check_request_utils.cc):
 * <ul>
 *   <li>source/destination addresses of the downstream connection; {@code request.time}; {@code request.http} with
 *       the stream id, method, path (with query, after the HCM's normalisation), host, scheme, protocol, size; the
 *       headers (pseudo-headers included, {@code x-envoy-auth-partial-body} from the client dropped) as the
 *       {@code headers} map (repeated names joined with ",") or, with {@code encode_raw_headers}, as
 *       {@code header_map} with raw values; the route's {@code context_extensions};</li>
 *   <li>the Check deadline: {@code grpc_service.timeout}, else 200 ms (source/extensions/filters/http/ext_authz/config.cc);</li>
 *   <li>the answer (source/extensions/filters/common/ext_authz/ext_authz_grpc_impl.cc): code OK allows and mutates —
 *       {@code ok_response.headers} (an explicit {@code append} wins over {@code append_action}), then
 *       {@code headers_to_remove} (never pseudo-headers or host), {@code response_headers_to_add} kept for the
 *       response, query parameters set/removed; any other code is Denied with {@code denied_response}'s status
 *       (403 when unset), body and headers; an RPC failure is Error: {@code failure_mode_allow} or
 *       {@code status_on_error} (403 when unset).</li>
 * </ul>
 */
final class ExtAuthzCall {
    /** Default Check deadline (source/extensions/filters/http/ext_authz/config.cc, DefaultTimeout). */
    static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(200);

    enum Outcome {
        ALLOWED,
        DENIED,
        ERROR_ALLOWED,
        ERROR_DENIED
    }

    record Result(
            Outcome outcome,
            int status,
            Headers responseHeaders,
            String body,
            List<HeaderValueOption> responseHeadersToAdd,
            String path,
            CheckRequest request,
            CheckResponse response,
            String error,
            Struct dynamicMetadata) {}

    /** The stream's dynamic metadata namespace the filter writes an answer's {@code dynamic_metadata} into. */
    static final String METADATA_NAMESPACE = "envoy.filters.http.ext_authz";

    private ExtAuthzCall() {}

    /**
     * The body a Check carries ({@code with_request_body}): {@code bytes} at most {@code max_request_bytes}, {@code cut}
     * when the request had more, {@code packAsBytes} from the buffer settings.
     */
    record CheckBody(byte[] bytes, boolean cut, boolean packAsBytes) {}

    /**
     * @param body with a buffered body (check_request_utils.cc {@code setRequestBody}), Envoy adds
     * {@code x-envoy-auth-partial-body: true|false} to the Check's headers and sends the bytes as {@code raw_body}
     * ({@code pack_as_bytes}) or as the {@code body} string. A body that is not UTF-8 in the string field is not a
     * valid proto3 string: Envoy sends it as it is and a protobuf reader refuses the Check (a failed RPC, so
     * {@code status_on_error}); the emulator does not model that and refuses such a request.
     */
    static CheckRequest build(
            ExtAuthz config,
            long streamId,
            String method,
            String path,
            String authority,
            Headers headers,
            Map<String, String> contextExtensions,
            String clientIp,
            int clientPort,
            int listenerPort,
            long bodySize,
            java.util.Optional<CheckBody> body) {
        AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder()
                .setId(Long.toString(streamId))
                .setMethod(method)
                .setPath(path)
                .setHost(authority)
                .setScheme("http")
                .setProtocol("HTTP/1.1")
                .setSize(bodySize);
        Headers all = pseudoHeaders(method, path, authority);
        headers.entries().forEach(h -> all.add(h[0], h[1]));
        all.remove("x-envoy-auth-partial-body");
        if (body.isPresent()) {
            all.add("x-envoy-auth-partial-body", body.get().cut() ? "true" : "false");
            com.google.protobuf.ByteString bytes =
                    com.google.protobuf.ByteString.copyFrom(body.get().bytes());
            if (body.get().packAsBytes()) {
                http.setRawBody(bytes);
            } else if (bytes.isValidUtf8()) {
                http.setBody(bytes.toStringUtf8());
            } else {
                throw new UnmodelledException(
                        "with_request_body without pack_as_bytes on a body that is not UTF-8 (an invalid proto3 string)");
            }
        }
        if (config.getEncodeRawHeaders()) {
            HeaderMap.Builder map = HeaderMap.newBuilder();
            all.entries()
                    .forEach(h -> map.addHeaders(HeaderValue.newBuilder()
                            .setKey(h[0])
                            .setRawValue(com.google.protobuf.ByteString.copyFromUtf8(h[1]))));
            http.setHeaderMap(map);
        } else {
            all.names().forEach(n -> http.putHeaders(n, all.joined(n).orElseThrow()));
        }
        Instant now = Instant.now();
        return CheckRequest.newBuilder()
                .setAttributes(AttributeContext.newBuilder()
                        .setSource(AttributeContext.Peer.newBuilder().setAddress(address(clientIp, clientPort)))
                        .setDestination(
                                AttributeContext.Peer.newBuilder().setAddress(address("127.0.0.1", listenerPort)))
                        .setRequest(AttributeContext.Request.newBuilder()
                                .setTime(Timestamp.newBuilder()
                                        .setSeconds(now.getEpochSecond())
                                        .setNanos(now.getNano()))
                                .setHttp(http))
                        .putAllContextExtensions(contextExtensions))
                .build();
    }

    static Result call(
            ExtAuthz config, ManagedChannel channel, CheckRequest request, Headers headers, double timeoutScale) {
        return call(config, channel, request, headers, timeoutScale, EnvoyVersion.GATEWAY);
    }

    static Result call(
            ExtAuthz config,
            ManagedChannel channel,
            CheckRequest request,
            Headers headers,
            double timeoutScale,
            EnvoyVersion version) {
        Duration timeout = config.getGrpcService().hasTimeout()
                ? Duration.ofSeconds(
                        config.getGrpcService().getTimeout().getSeconds(),
                        config.getGrpcService().getTimeout().getNanos())
                : DEFAULT_TIMEOUT;
        long deadlineMs = Math.max(1, (long) (timeout.toMillis() * timeoutScale));
        CheckResponse response;
        Instant started = Instant.now();
        try {
            response = AuthorizationGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
                    .check(request);
        } catch (RuntimeException e) {
            if (config.getFailureModeAllow()) {
                return failed(Outcome.ERROR_ALLOWED, 0, request, e);
            }
            int status = config.hasStatusOnError() && config.getStatusOnError().getCodeValue() != 0
                    ? config.getStatusOnError().getCodeValue()
                    : 403;
            return failed(Outcome.ERROR_DENIED, status, request, e);
        }
        String path = request.getAttributes().getRequest().getHttp().getPath();
        Struct metadata = dynamicMetadata(response, Duration.between(started, Instant.now()));
        if (response.getStatus().getCode() == 0) {
            OkHttpResponse ok = response.getOkResponse();
            for (HeaderValueOption o : ok.getHeadersList()) {
                applyCheckHeader(headers, o, version);
            }
            for (String name : ok.getHeadersToRemoveList()) {
                if (!name.startsWith(":") && !name.equalsIgnoreCase("host")) {
                    headers.remove(name);
                }
            }
            path = queryMutations(path, ok);
            return new Result(
                    Outcome.ALLOWED,
                    0,
                    new Headers(),
                    "",
                    ok.getResponseHeadersToAddList(),
                    path,
                    request,
                    response,
                    "",
                    metadata);
        }
        DeniedHttpResponse denied = response.getDeniedResponse();
        int status = denied.hasStatus() && denied.getStatus().getCodeValue() != 0
                ? denied.getStatus().getCodeValue()
                : 403;
        Headers out = new Headers();
        // onComplete's Denied branch adds every denial header with addCopy (ext_authz.cc): a repeated name stays
        // repeated (two set-cookie or www-authenticate headers both reach the client)
        for (HeaderValueOption o : denied.getHeadersList()) {
            out.add(o.getHeader().getKey(), o.getHeader().getValue());
        }
        return new Result(
                Outcome.DENIED, status, out, denied.getBody(), List.of(), path, request, response, "", metadata);
    }

    /** The result of a Check that failed before an answer ({@code e}): no headers, no body, no metadata. */
    private static Result failed(Outcome outcome, int status, CheckRequest request, RuntimeException e) {
        return new Result(
                outcome,
                status,
                new Headers(),
                "",
                List.of(),
                request.getAttributes().getRequest().getHttp().getPath(),
                request,
                null,
                e.toString(),
                Struct.getDefaultInstance());
    }

    /**
     * What the filter sets in the stream's {@value #METADATA_NAMESPACE} namespace: the answer's top-level
     * {@code dynamic_metadata}, replaced on an OK answer by a deprecated {@code ok_response.dynamic_metadata} when that
     * has fields (ext_authz_grpc_impl.cc {@code onSuccess}); on OK, when there is any, with {@code ext_authz_duration}
     * (the Check's milliseconds) added. Empty: the namespace is not set ({@code onComplete}, ext_authz.cc;
     * {@code enable_dynamic_metadata_ingestion} is on by default and refused when set, {@link ModelledFields}).
     */
    static Struct dynamicMetadata(CheckResponse response, Duration took) {
        boolean ok = response.getStatus().getCode() == 0;
        Struct metadata = ok && response.getOkResponse().getDynamicMetadata().getFieldsCount() > 0
                ? response.getOkResponse().getDynamicMetadata()
                : response.getDynamicMetadata();
        if (metadata.getFieldsCount() == 0 || !ok) {
            return metadata;
        }
        return metadata.toBuilder()
                .putFields(
                        "ext_authz_duration",
                        Value.newBuilder().setNumberValue(took.toMillis()).build())
                .build();
    }

    /**
     * One {@code ok_response.headers} (or {@code response_headers_to_add}) option as the ext_authz filter applies it
     * (envoyproxy/envoy source/extensions/filters/http/ext_authz/ext_authz.cc {@code onComplete},
     * source/extensions/filters/common/ext_authz/ext_authz_grpc_impl.cc):
     * <ul>
     *   <li>an explicit {@code append: true} is {@code headers_to_append}: {@code appendCopy} only onto a header the
     *       request already has — an absent header is NOT added;</li>
     *   <li>{@code append: false} is {@code headers_to_set}: overwrite;</li>
     *   <li>{@code append} unset: up to 1.36 the same as false (overwrite), {@code append_action} ignored
     *       ({@link EnvoyVersion#honoursCheckAppendAction()}); from 1.37 the {@code append_action}.</li>
     * </ul>
     */
    static void applyCheckHeader(Headers headers, HeaderValueOption o, EnvoyVersion version) {
        String name = o.getHeader().getKey();
        String value = o.getHeader().getValue();
        if (o.hasAppend() && o.getAppend().getValue()) {
            if (headers.has(name)) {
                headers.add(name, value);
            }
            return;
        }
        if (o.hasAppend() || !version.honoursCheckAppendAction()) {
            headers.set(name, value);
            return;
        }
        apply(headers, o);
    }

    /**
     * One header mutation as a route's {@code request_headers_to_add}/{@code response_headers_to_add} and ext_proc's
     * {@code set_headers} apply it: an explicit {@code append} first, else the action
     * (source/common/router/header_parser.cc).
     */
    static void apply(Headers headers, HeaderValueOption o) {
        String name = o.getHeader().getKey();
        String value = o.getHeader().getValue();
        if (o.hasAppend()) {
            if (o.getAppend().getValue()) {
                headers.add(name, value);
            } else {
                headers.set(name, value);
            }
            return;
        }
        switch (o.getAppendAction()) {
            case APPEND_IF_EXISTS_OR_ADD -> headers.add(name, value);
            case ADD_IF_ABSENT -> {
                if (!headers.has(name)) {
                    headers.add(name, value);
                }
            }
            case OVERWRITE_IF_EXISTS_OR_ADD -> headers.set(name, value);
            case OVERWRITE_IF_EXISTS -> {
                if (headers.has(name)) {
                    headers.set(name, value);
                }
            }
            default -> throw new UnmodelledException("append_action " + o.getAppendAction());
        }
    }

    private static String queryMutations(String path, OkHttpResponse ok) {
        if (ok.getQueryParametersToSetCount() == 0 && ok.getQueryParametersToRemoveCount() == 0) {
            return path;
        }
        int q = path.indexOf('?');
        String base = q < 0 ? path : path.substring(0, q);
        List<String[]> params = new ArrayList<>();
        if (q >= 0) {
            for (String p : path.substring(q + 1).split("&")) {
                if (!p.isEmpty()) {
                    int eq = p.indexOf('=');
                    params.add(new String[] {
                        URLDecoder.decode(eq < 0 ? p : p.substring(0, eq), StandardCharsets.UTF_8),
                        eq < 0 ? "" : p.substring(eq + 1)
                    });
                }
            }
        }
        for (var set : ok.getQueryParametersToSetList()) {
            params.removeIf(p -> p[0].equals(set.getKey()));
            params.add(new String[] {set.getKey(), URLEncoder.encode(set.getValue(), StandardCharsets.UTF_8)});
        }
        for (String remove : ok.getQueryParametersToRemoveList()) {
            params.removeIf(p -> p[0].equals(remove));
        }
        StringBuilder out = new StringBuilder(base);
        for (int i = 0; i < params.size(); i++) {
            out.append(i == 0 ? '?' : '&')
                    .append(URLEncoder.encode(params.get(i)[0], StandardCharsets.UTF_8))
                    .append('=')
                    .append(params.get(i)[1]);
        }
        return out.toString();
    }

    static Headers pseudoHeaders(String method, String path, String authority) {
        return Headers.of(":authority", authority, ":path", path, ":method", method, ":scheme", "http");
    }

    private static Address address(String ip, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
                .build();
    }
}
