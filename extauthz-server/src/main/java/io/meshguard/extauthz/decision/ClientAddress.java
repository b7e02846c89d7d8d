package io.meshguard.extauthz.decision;

import java.util.List;

/**
 * The address an anonymous caller is rate-limited by. With no trusted proxy hops it is Envoy's
 * {@code attributes.source.address} (the downstream peer, {@code source/extensions/filters/common/ext_authz/
 * check_request_utils.cc}). With {@code n} trusted hops it is the {@code n}th {@code x-forwarded-for} entry counted
 * from the right — the entry the outermost trusted proxy appended for its own peer — as Envoy picks the client with
 * {@code xff_num_trusted_hops} and {@code use_remote_address: true} ({@code source/common/http/utility.cc}
 * {@code getLastAddressFromXFF}; docs: {@code configuration/http/http_conn_man/headers.rst}, x-forwarded-for).
 * Entries left of that one are whatever the client wrote and are never used. A chain shorter than {@code n}, or an
 * entry that is not an IP literal, means the request did not come through the trusted proxies: the peer address
 * is used.
 */
public final class ClientAddress {
    private ClientAddress() {}

    public static String of(HttpRequestView request, int trustedHops) {
        String peer = request.sourceAddress().isEmpty() ? "unknown" : request.sourceAddress();
        if (trustedHops <= 0) {
            return peer;
        }
        List<String> lines = request.all("x-forwarded-for");
        int seen = 0;
        for (int l = lines.size() - 1; l >= 0; l--) {
            String line = lines.get(l);
            int end = line.length();
            for (int i = line.length() - 1; i >= -1; i--) {
                if (i == -1 || line.charAt(i) == ',') {
                    seen++;
                    if (seen == trustedHops) {
                        String entry = line.substring(i + 1, end).trim();
                        return ipLiteral(entry) ? entry : peer;
                    }
                    end = i;
                }
            }
        }
        return peer;
    }

    private static boolean ipLiteral(String s) {
        if (s.isEmpty() || s.length() > 45) {
            return false;
        }
        boolean sep = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '.' || c == ':') {
                sep = true;
            } else if (Character.digit(c, 16) < 0 || c > 'f') {
                return false;
            }
        }
        return sep;
    }
}
