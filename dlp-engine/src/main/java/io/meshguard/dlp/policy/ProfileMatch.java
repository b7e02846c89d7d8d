package io.meshguard.dlp.policy;

import java.util.List;
import java.util.Locale;

/**
 * Which messages a profile applies to. Empty lists match everything. Hosts: exact, or {@code *.suffix}; the port is
 * ignored. Paths: a prefix, or a pattern with {@code *} (any characters); the query string is ignored. Content types:
 * a media type ({@code application/json}) or a family ({@code text/*}); parameters such as charset are ignored.
 *
 * <p>Paths are matched on the canonical path ({@link ProfilePath}, the one extauthz authorises), ignoring ASCII case:
 * extauthz matches routes case-sensitively and refuses what it does not know, but an upstream that routes
 * case-insensitively (ASP.NET, IIS, Spring with a lower-casing path matcher) serves {@code /V1/Chat/Completions} as
 * {@code /v1/chat/completions}, and then the profile written for that path must apply too.
 */
public record ProfileMatch(List<String> hosts, List<String> paths, List<String> contentTypes) {
    public static final ProfileMatch ANY = new ProfileMatch(List.of(), List.of(), List.of());

    public ProfileMatch {
        hosts = List.copyOf(hosts);
        paths = List.copyOf(paths);
        contentTypes = List.copyOf(contentTypes);
    }

    public boolean matches(String host, String path, String contentType) {
        return matchesRequest(host, path) && matchesContentType(contentType);
    }

    /** Host and path only (the content type is not known yet, or a route already chose the profile). */
    public boolean matchesRequest(String host, String path) {
        return matchesHost(host) && matchesPath(path);
    }

    private boolean matchesHost(String host) {
        if (hosts.isEmpty()) {
            return true;
        }
        String h = host.toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        if (colon > 0 && h.indexOf(']') < colon) {
            h = h.substring(0, colon);
        }
        for (String pattern : hosts) {
            String p = pattern.toLowerCase(Locale.ROOT);
            if (p.startsWith("*.") ? h.endsWith(p.substring(1)) : h.equals(p)) {
                return true;
            }
        }
        return false;
    }

    private boolean matchesPath(String path) {
        if (paths.isEmpty()) {
            return true;
        }
        int q = path.indexOf('?');
        String p = q >= 0 ? path.substring(0, q) : path;
        for (String pattern : paths) {
            if (pattern.contains("*")
                    ? glob(pattern.toLowerCase(Locale.ROOT), p.toLowerCase(Locale.ROOT))
                    : p.regionMatches(true, 0, pattern, 0, pattern.length())) {
                return true;
            }
        }
        return false;
    }

    private static boolean glob(String pattern, String s) {
        String[] parts = pattern.split("\\*", -1);
        if (!s.startsWith(parts[0])) {
            return false;
        }
        int at = parts[0].length();
        for (int i = 1; i < parts.length - 1; i++) {
            int found = s.indexOf(parts[i], at);
            if (found < 0) {
                return false;
            }
            at = found + parts[i].length();
        }
        String last = parts[parts.length - 1];
        return s.length() - at >= last.length() && s.endsWith(last);
    }

    public boolean matchesContentType(String contentType) {
        if (contentTypes.isEmpty()) {
            return true;
        }
        String media = MediaTypes.essence(contentType);
        for (String ct : contentTypes) {
            String c = ct.toLowerCase(Locale.ROOT);
            if (c.endsWith("/*") ? media.startsWith(c.substring(0, c.length() - 1)) : media.equals(c)) {
                return true;
            }
        }
        return false;
    }
}
