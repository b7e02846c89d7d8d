package io.meshguard.extauthz.tools;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Builds CheckRequests the way Envoy does, in either header encoding. */
public final class CheckRequests {
    /** {@code headers}: Envoy's default map (duplicates comma-joined); {@code header_map}: raw lines (encode_raw_headers, grpc-java). */
    public enum Encoding {
        HEADERS,
        HEADER_MAP
    }

    private CheckRequests() {}

    public static CheckRequest of(
            String method,
            String host,
            String path,
            Map<String, List<String>> headers,
            Map<String, String> contextExtensions,
            Encoding encoding) {
        return of(method, host, path, headers, contextExtensions, encoding, "", "");
    }

    /**
     * With the downstream peer as Envoy reports it: {@code source.principal} from the peer certificate's URI SAN and
     * {@code source.address} ({@code envoyproxy/envoy: source/extensions/filters/common/ext_authz/check_request_utils.cc}).
     */
    public static CheckRequest of(
            String method,
            String host,
            String path,
            Map<String, List<String>> headers,
            Map<String, String> contextExtensions,
            Encoding encoding,
            String sourcePrincipal,
            String sourceAddress) {
        AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder()
                .setMethod(method)
                .setHost(host)
                .setPath(path)
                .setProtocol("HTTP/1.1")
                .setScheme("https");
        if (encoding == Encoding.HEADERS) {
            http.putHeaders(":authority", host).putHeaders(":method", method).putHeaders(":path", path);
            headers.forEach((k, v) -> http.putHeaders(k.toLowerCase(java.util.Locale.ROOT), String.join(",", v)));
        } else {
            HeaderMap.Builder map = HeaderMap.newBuilder();
            headers.forEach((k, values) -> values.forEach(v -> map.addHeaders(HeaderValue.newBuilder()
                    .setKey(k.toLowerCase(java.util.Locale.ROOT))
                    .setRawValue(ByteString.copyFrom(v, StandardCharsets.UTF_8)))));
            http.setHeaderMap(map);
        }
        AttributeContext.Peer.Builder source =
                AttributeContext.Peer.newBuilder().setPrincipal(sourcePrincipal);
        if (!sourceAddress.isEmpty()) {
            source.setAddress(io.envoyproxy.envoy.config.core.v3.Address.newBuilder()
                    .setSocketAddress(io.envoyproxy.envoy.config.core.v3.SocketAddress.newBuilder()
                            .setAddress(sourceAddress)
                            .setPortValue(40000)));
        }
        return CheckRequest.newBuilder()
                .setAttributes(AttributeContext.newBuilder()
                        .setSource(source)
                        .setRequest(AttributeContext.Request.newBuilder().setHttp(http))
                        .putAllContextExtensions(contextExtensions))
                .build();
    }
}
