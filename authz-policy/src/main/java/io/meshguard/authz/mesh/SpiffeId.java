package io.meshguard.authz.mesh;

import java.util.Optional;

/**
 * A SPIFFE ID parsed strictly (SPIFFE ID spec, {@code spiffe/spiffe: standards/SPIFFE-ID.md}): scheme exactly
 * {@code spiffe://}, a trust domain of lowercase letters, digits, {@code .}, {@code -}, {@code _}, and a path of
 * non-empty segments of letters, digits, {@code .}, {@code -}, {@code _} — no {@code .}/{@code ..} segments, no
 * percent-escapes, no query, fragment, port or user info. Istio workloads carry {@code /ns/<namespace>/sa/<account>};
 * only that exact shape yields a namespace and service account. Anything else is refused rather than guessed at, so a
 * rule on {@code ns/foo} can never be met by {@code spiffe://td/ns/foo/../bar/sa/x}.
 *
 * <p>Envoy fills {@code attributes.source.principal} from the downstream peer certificate: URI SAN first, then DNS
 * SAN, then subject ({@code envoyproxy/envoy: source/extensions/filters/common/ext_authz/check_request_utils.cc},
 * {@code setAttrContextPeer}). Only the first kind parses here.
 *
 * @param id the ID without the scheme, the form Istio's AuthorizationPolicy writes ({@code cluster.local/ns/a/sa/b})
 */
public record SpiffeId(String id, String trustDomain, Optional<String> namespace, Optional<String> serviceAccount) {
    private static final String SCHEME = "spiffe://";
    private static final int MAX_LENGTH = 2048;

    public static Optional<SpiffeId> parse(String uri) {
        if (uri.length() > MAX_LENGTH || !uri.startsWith(SCHEME)) {
            return Optional.empty();
        }
        String rest = uri.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        String td = slash < 0 ? rest : rest.substring(0, slash);
        if (td.isEmpty() || td.length() > 255 || !trustDomain(td)) {
            return Optional.empty();
        }
        if (slash < 0) {
            return Optional.empty(); // a trust domain alone names no workload
        }
        String path = rest.substring(slash + 1);
        String[] segments = path.split("/", -1);
        for (String s : segments) {
            if (s.isEmpty() || s.equals(".") || s.equals("..") || !segment(s)) {
                return Optional.empty();
            }
        }
        boolean istio = segments.length == 4 && segments[0].equals("ns") && segments[2].equals("sa");
        return Optional.of(new SpiffeId(
                rest,
                td,
                istio ? Optional.of(segments[1]) : Optional.empty(),
                istio ? Optional.of(segments[3]) : Optional.empty()));
    }

    /** The principal as Envoy reports it. */
    public String uri() {
        return SCHEME + id;
    }

    private static boolean trustDomain(String td) {
        for (int i = 0; i < td.length(); i++) {
            char c = td.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                return false;
            }
        }
        return true;
    }

    private static boolean segment(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '-'
                    || c == '_')) {
                return false;
            }
        }
        return true;
    }
}
