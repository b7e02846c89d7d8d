package io.meshguard.audit;

/**
 * What part of a request path the audit log keeps. Query strings often carry identifiers, tokens or search terms,
 * so they are dropped unless an operator opts in; streams never keep them.
 */
public record PathPolicy(boolean keepQueryString) {
    /** The default: paths without query string. */
    public static final PathPolicy DROP_QUERY = new PathPolicy(false);

    /** {@code path} as it may be stored; {@code stream} forces the query string out. */
    public String apply(String path, boolean stream) {
        if (keepQueryString && !stream) {
            return path;
        }
        return withoutQuery(path);
    }

    /** The path up to (not including) the first {@code ?} or {@code #}. */
    public static String withoutQuery(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '?' || c == '#') {
                return path.substring(0, i);
            }
        }
        return path;
    }
}
