package io.meshguard.authz.policy;

import com.google.re2j.Pattern;

/** How a route matches the request path (query string removed). Regexes run on RE2/J: linear time. */
public sealed interface PathMatch {
    boolean matches(String path);

    String describe();

    record Exact(String path) implements PathMatch {
        @Override
        public boolean matches(String candidate) {
            return candidate.equals(path);
        }

        @Override
        public String describe() {
            return "path " + path;
        }
    }

    /** Segment-aware prefix: {@code /payments} matches {@code /payments} and {@code /payments/1}, not {@code /paymentsX}. */
    record Prefix(String prefix) implements PathMatch {
        @Override
        public boolean matches(String candidate) {
            if (!candidate.startsWith(prefix)) {
                return false;
            }
            return prefix.endsWith("/")
                    || candidate.length() == prefix.length()
                    || candidate.charAt(prefix.length()) == '/';
        }

        @Override
        public String describe() {
            return "path_prefix " + prefix;
        }
    }

    record Regex(Pattern pattern) implements PathMatch {
        @Override
        public boolean matches(String candidate) {
            return pattern.matches(candidate);
        }

        @Override
        public String describe() {
            return "path_regex " + pattern.pattern();
        }
    }

    record Any() implements PathMatch {
        @Override
        public boolean matches(String candidate) {
            return true;
        }

        @Override
        public String describe() {
            return "any path";
        }
    }
}
