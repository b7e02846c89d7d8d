package io.meshguard.authz.jwt;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads claims by dotted path ({@code realm_access.roles}) and turns them into strings or string lists. */
final class ClaimPaths {
    private ClaimPaths() {}

    static Optional<Object> get(Map<String, Object> claims, String path) {
        // a claim whose own name contains dots ("https://bank.example/tenant") is looked up whole first
        if (claims.containsKey(path)) {
            return Optional.ofNullable(claims.get(path));
        }
        Object current = claims;
        for (String part : path.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return Optional.empty();
            }
            current = map.get(part);
            if (current == null) {
                return Optional.empty();
            }
        }
        return Optional.of(current);
    }

    /** A scalar claim as text; arrays and objects are not identities. */
    static Optional<String> string(Map<String, Object> claims, String path) {
        return get(claims, path)
                .flatMap(v -> v instanceof String || v instanceof Number || v instanceof Boolean
                        ? Optional.of(v.toString())
                        : Optional.empty())
                .filter(s -> !s.isEmpty());
    }

    /** An array of strings, or a space-delimited string (OAuth {@code scope}). */
    static List<String> strings(Map<String, Object> claims, String path) {
        Optional<Object> value = get(claims, path);
        List<String> out = new ArrayList<>();
        if (value.isEmpty()) {
            return out;
        }
        Object v = value.get();
        if (v instanceof String s) {
            for (String part : s.trim().split("\\s+")) {
                if (!part.isEmpty()) {
                    out.add(part);
                }
            }
        } else if (v instanceof Collection<?> c) {
            for (Object item : c) {
                if (item instanceof String s && !s.isEmpty()) {
                    out.add(s);
                }
            }
        }
        return out;
    }
}
