package io.meshguard.extauthz;

import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One request as it travels client → edge gateway → workload sidecar, decided twice by one pipeline: the gateway's
 * Check (no peer: the client connects from outside the mesh), then the sidecar's Check with the headers Envoy
 * forwards after the gateway's allow — the client's, minus those the allow removed, plus those it set (Envoy
 * {@code source/extensions/filters/http/ext_authz/ext_authz.cc}, {@code onComplete}: sets, then removals) — and the
 * gateway's SPIFFE principal as the peer.
 */
public final class GatewayChain {
    /** The edge gateway's SPIFFE ID, as the tests' {@code mesh.trusted_gateways} lists it. */
    public static final String GATEWAY = "spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway";

    private final AuthzPipeline pipeline;
    private final String edgeHost;

    /** @param edgeHost the host clients call at the gateway */
    public GatewayChain(AuthzPipeline pipeline, String edgeHost) {
        this.pipeline = pipeline;
        this.edgeHost = edgeHost;
    }

    /** One Check of a GET from {@code principal} ("" for none) with these headers. */
    public Decision check(String host, String path, String principal, Map<String, String> headers) {
        List<String> kv = new ArrayList<>();
        headers.forEach((k, v) -> {
            kv.add(k);
            kv.add(v);
        });
        return pipeline.decide(HttpRequestView.of(CheckRequests.of(
                "GET",
                host,
                path,
                Fixtures.headers(kv.toArray(String[]::new)),
                Map.of(),
                CheckRequests.Encoding.HEADER_MAP,
                principal,
                "10.0.0.9")));
    }

    /** The sidecar's decision on {@code sidecarHost}, or the gateway's when the gateway refused. */
    public Decision through(String sidecarHost, String path, Map<String, String> sent) {
        Decision edge = check(edgeHost, path, "", sent);
        if (!edge.allowed()) {
            return edge;
        }
        return check(sidecarHost, path, GATEWAY, forwarded(sent, edge));
    }

    /** Request headers in order: one named pair, then {@code more} as name, value, name, value … */
    public static Map<String, String> headers(String name, String value, String... more) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put(name, value);
        for (int i = 0; i + 1 < more.length; i += 2) {
            out.put(more[i], more[i + 1]);
        }
        return out;
    }

    /** The request headers Envoy forwards after an allow: the client's minus the removed, plus the set. */
    public static Map<String, String> forwarded(Map<String, String> sent, Decision allow) {
        Map<String, String> out = new LinkedHashMap<>(sent);
        allow.headersRemoved().forEach(out::remove);
        out.putAll(Fixtures.set(allow));
        return out;
    }
}
