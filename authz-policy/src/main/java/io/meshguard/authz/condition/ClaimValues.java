package io.meshguard.authz.condition;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A verified token's claims in the value types CEL evaluates (string, int64, double, bool, list, map), made once when
 * the token is verified and cached with its identity. JSON nulls are left out, so {@code claims.x} on a null claim reads
 * as a missing key (false), not as a value; numbers beyond int64 become doubles; nesting is kept as it is.
 */
public final class ClaimValues {
    private ClaimValues() {}

    public static Map<String, Object> of(Map<String, Object> claims) {
        Map<String, Object> out = new LinkedHashMap<>();
        claims.forEach((k, v) -> {
            Object c = value(v);
            if (c != null) {
                out.put(k, c);
            }
        });
        return Collections.unmodifiableMap(out);
    }

    private static Object value(Object v) {
        if (v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
            return v;
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof BigInteger b) {
            return b.bitLength() < 64 ? (Object) b.longValue() : (Object) b.doubleValue();
        }
        if (v instanceof BigDecimal || v instanceof Float || v instanceof Number) {
            return ((Number) v).doubleValue();
        }
        if (v instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object o : list) {
                Object c = value(o);
                if (c != null) {
                    out.add(c);
                }
            }
            return Collections.unmodifiableList(out);
        }
        if (v instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, x) -> {
                Object c = value(x);
                if (c != null) {
                    out.put(String.valueOf(k), c);
                }
            });
            return Collections.unmodifiableMap(out);
        }
        return null;
    }
}
