package io.meshguard.contract.peer;

import java.util.List;
import java.util.regex.Pattern;

/**
 * A SPIFFE ID, or a pattern of one where {@code *} stands for exactly one whole path segment:
 * {@code spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway}, {@code spiffe://cluster.local/ns/* /sa/grpc-client}
 * (without the space). The trust domain is always literal, so a pattern never admits another trust domain, and
 * {@code *} never spans a {@code /}, so {@code /ns/*} does not admit {@code /ns/a/sa/b}.
 */
public record SpiffeIdPattern(String pattern) {
    private static final String SCHEME = "spiffe://";
    /** Trust domain characters (SPIFFE ID spec §2.1): lowercase letters, digits, dot, dash, underscore. */
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]+");
    /** Path segment characters (SPIFFE ID spec §2.2): letters, digits, dot, dash, underscore. */
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");

    public SpiffeIdPattern {
        if (!pattern.startsWith(SCHEME)) {
            throw new IllegalArgumentException("'" + ClientText.escape(pattern, 200) + "' is not a SPIFFE ID "
                    + "(spiffe://<trust domain>/<path>)");
        }
        String rest = pattern.substring(SCHEME.length());
        int slash = rest.indexOf('/');
        if (slash <= 0 || !TRUST_DOMAIN.matcher(rest.substring(0, slash)).matches()) {
            throw new IllegalArgumentException(
                    "'" + ClientText.escape(pattern, 200) + "' needs a literal trust domain and a path");
        }
        for (String segment : rest.substring(slash + 1).split("/", -1)) {
            if (!segment.equals("*") && !SEGMENT.matcher(segment).matches()) {
                throw new IllegalArgumentException("'" + ClientText.escape(pattern, 200) + "': path segment '"
                        + ClientText.escape(segment, 100) + "' is neither a SPIFFE path segment nor a lone '*'");
            }
        }
    }

    /** Whether the SPIFFE ID {@code id} matches, segment by segment. */
    public boolean matches(String id) {
        if (!id.startsWith(SCHEME)) {
            return false;
        }
        List<String> want = List.of(pattern.substring(SCHEME.length()).split("/", -1));
        List<String> have = List.of(id.substring(SCHEME.length()).split("/", -1));
        if (want.size() != have.size()) {
            return false;
        }
        if (!want.get(0).equals(have.get(0))) {
            return false;
        }
        for (int i = 1; i < want.size(); i++) {
            String w = want.get(i);
            String h = have.get(i);
            if (!(w.equals("*") ? SEGMENT.matcher(h).matches() : w.equals(h))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return pattern;
    }
}
