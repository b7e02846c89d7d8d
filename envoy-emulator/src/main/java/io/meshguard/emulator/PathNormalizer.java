package io.meshguard.emulator;

import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.PathWithEscapedSlashesAction;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * The HCM's path handling before routing (ConnectionManagerUtility::maybeNormalizePath,
 * source/common/http/conn_manager_utility.cc, with PathUtil in source/common/http/path_utility.cc), in Envoy's order:
 * escaped slashes ({@code %2F}, {@code %5C}, any case) per {@code path_with_escaped_slashes_action}; then
 * {@code normalize_path} (RFC 3986 canonicalisation: percent-encoded unreserved characters decoded, other escapes
 * upper-cased, {@code .} and {@code ..} segments resolved; a path that cannot be canonicalised is a 400); then
 * {@code merge_slashes}. The query string is left alone.
 */
public final class PathNormalizer {
    /** Outcome: continue with {@code path}, redirect to it (307), or reject (400). */
    public record Result(Kind kind, String path) {
        /** What the HCM does with the request. */
        public enum Kind {
            CONTINUE,
            REDIRECT,
            REJECT
        }
    }

    private PathNormalizer() {}

    /** What {@code hcm}'s path settings make of {@code rawPath} (its query string kept as sent). */
    public static Result apply(HttpConnectionManager hcm, String rawPath) {
        int q = rawPath.indexOf('?');
        String path = q < 0 ? rawPath : rawPath.substring(0, q);
        String query = q < 0 ? "" : rawPath.substring(q);
        if (!path.startsWith("/")) {
            return new Result(Result.Kind.REJECT, rawPath);
        }
        boolean redirect = false;
        PathWithEscapedSlashesAction action = hcm.getPathWithEscapedSlashesAction();
        if (hasEscapedSlash(path)) {
            switch (action) {
                case REJECT_REQUEST -> {
                    return new Result(Result.Kind.REJECT, rawPath);
                }
                case UNESCAPE_AND_REDIRECT -> {
                    path = unescapeSlashes(path);
                    redirect = true;
                }
                case UNESCAPE_AND_FORWARD -> path = unescapeSlashes(path);
                case KEEP_UNCHANGED, IMPLEMENTATION_SPECIFIC_DEFAULT -> {}
                default -> throw new UnmodelledException("path_with_escaped_slashes_action " + action);
            }
        }
        if (hcm.hasNormalizePath() && hcm.getNormalizePath().getValue()) {
            String canonical = canonical(path);
            if (canonical == null) {
                return new Result(Result.Kind.REJECT, rawPath);
            }
            path = canonical;
        }
        if (hcm.getMergeSlashes()) {
            path = path.replaceAll("/{2,}", "/");
        }
        return new Result(redirect ? Result.Kind.REDIRECT : Result.Kind.CONTINUE, path + query);
    }

    private static boolean hasEscapedSlash(String path) {
        String upper = path.toUpperCase(Locale.ROOT);
        return upper.contains("%2F") || upper.contains("%5C");
    }

    private static String unescapeSlashes(String path) {
        return path.replaceAll("%2[Ff]", "/").replaceAll("%5[Cc]", "\\\\");
    }

    /** RFC 3986 section 6.2.2 normalisation plus dot-segment removal; null when the path is not valid. */
    static String canonical(String path) {
        StringBuilder decoded = new StringBuilder();
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c < 0x21 || c == 0x7f) {
                return null;
            }
            if (c == '%') {
                if (i + 2 >= path.length() || hex(path.charAt(i + 1)) < 0 || hex(path.charAt(i + 2)) < 0) {
                    return null;
                }
                int v = hex(path.charAt(i + 1)) * 16 + hex(path.charAt(i + 2));
                char ch = (char) v;
                if (Character.isLetterOrDigit(ch) && ch < 0x80 || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
                    decoded.append(ch);
                } else {
                    decoded.append('%').append(path.substring(i + 1, i + 3).toUpperCase(Locale.ROOT));
                }
                i += 2;
            } else if (c == '\\') {
                decoded.append('/'); // the URL canonicaliser treats a backslash as a separator
            } else {
                decoded.append(c);
            }
        }
        Deque<String> out = new ArrayDeque<>();
        String[] segments = decoded.toString().substring(1).split("/", -1);
        for (int i = 0; i < segments.length; i++) {
            String s = segments[i];
            boolean last = i == segments.length - 1;
            if (s.equals(".")) {
                if (last) {
                    out.addLast("");
                }
            } else if (s.equals("..")) {
                if (!out.isEmpty()) {
                    out.removeLast();
                }
                if (last) {
                    out.addLast("");
                }
            } else {
                out.addLast(s);
            }
        }
        return "/" + String.join("/", out);
    }

    private static int hex(char c) {
        return Character.digit(c, 16);
    }
}
