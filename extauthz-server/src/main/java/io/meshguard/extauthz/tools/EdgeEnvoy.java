package io.meshguard.extauthz.tools;

import com.google.common.net.InetAddresses;
import io.meshguard.authz.decision.ClientAddress;
import io.meshguard.contract.RouteContract;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the edge gateway's Envoy does to a request's headers before its ext_authz Check, so {@code policy test} cases
 * (request {@code edge: {xff_num_trusted_hops: N}}) see what a real gateway sends, not what the client wrote.
 * Modelled on {@code envoyproxy/envoy source/common/http/conn_manager_utility.cc} {@code mutateRequestHeaders} with
 * {@code use_remote_address: true}: the client is {@code getLastAddressFromXFF(xff_num_trusted_hops - 1)} of the
 * request's own chain (repeated lines are one comma-joined chain; an entry that is not a bare IP literal gives none),
 * else the peer; the peer is then appended to {@code x-forwarded-for}; a request that is not internal (internal: no
 * {@code x-forwarded-for} and a loopback peer) gets {@code x-envoy-external-address} overwritten with the client.
 * The gateway route's context extensions mark the Check as the edge's.
 */
public record EdgeEnvoy(int xffNumTrustedHops) {

    public Map<String, List<String>> headers(Map<String, List<String>> sent, String peer) {
        Map<String, List<String>> out = new LinkedHashMap<>(sent);
        List<String> chain = new ArrayList<>();
        for (String line : sent.getOrDefault("x-forwarded-for", List.of())) {
            for (String entry : line.split(",", -1)) {
                chain.add(entry.strip());
            }
        }
        Optional<String> client = Optional.empty();
        if (xffNumTrustedHops > 0 && chain.size() >= xffNumTrustedHops) {
            String entry = chain.get(chain.size() - xffNumTrustedHops);
            client = InetAddresses.isInetAddress(entry) ? Optional.of(entry) : Optional.empty();
        }
        String finalAddress = client.orElse(peer);
        boolean internal = chain.isEmpty() && isLoopback(peer);
        List<String> xff = new ArrayList<>(sent.getOrDefault("x-forwarded-for", List.of()));
        if (xff.isEmpty()) {
            xff.add(peer);
        } else {
            xff.set(xff.size() - 1, xff.get(xff.size() - 1) + "," + peer);
        }
        out.put("x-forwarded-for", List.of(String.join(",", xff)));
        if (!internal) {
            out.put(ClientAddress.ENVOY_EXTERNAL_ADDRESS, List.of(finalAddress));
        }
        return out;
    }

    public Map<String, String> contextExtensions(Map<String, String> given) {
        Map<String, String> out = new LinkedHashMap<>(given);
        out.putIfAbsent(RouteContract.AuthzContext.GATEWAY_ROUTE, "policy-test-edge");
        return out;
    }

    private static boolean isLoopback(String peer) {
        return InetAddresses.isInetAddress(peer)
                && InetAddresses.forString(peer).isLoopbackAddress();
    }
}
