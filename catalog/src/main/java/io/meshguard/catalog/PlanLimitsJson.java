package io.meshguard.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.catalogmodel.CalendarQuota;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.PlanLimits;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Plan limits as the API and the {@code plan} table hold them:
 * {@code {"rates": [{"requests": 50, "per": "1s"}], "quota": {"period": "day", "limit": 1000, "zone": "UTC",
 * "block": true}}}. Unknown fields are refused, so a misspelt limit is an error rather than a limit never enforced.
 */
public final class PlanLimitsJson {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> TOP = Set.of("rates", "quota");
    private static final Set<String> RATE = Set.of("requests", "per");
    private static final Set<String> QUOTA = Set.of("period", "limit", "zone", "block");

    private PlanLimitsJson() {}

    public static PlanLimits parse(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return PlanLimits.NONE;
        }
        requireObject(node, where, TOP);
        List<Limit> rates = new ArrayList<>();
        JsonNode r = node.path("rates");
        if (!r.isMissingNode()) {
            if (!r.isArray()) {
                throw new IllegalArgumentException(where + ".rates: must be a list");
            }
            for (int i = 0; i < r.size(); i++) {
                JsonNode rate = r.get(i);
                String at = where + ".rates[" + i + "]";
                requireObject(rate, at, RATE);
                long requests = longField(rate, "requests", at);
                Duration per = duration(text(rate, "per", at), at);
                try {
                    rates.add(new Limit(requests, per));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(at + ": " + e.getMessage());
                }
            }
        }
        Optional<CalendarQuota> quota = Optional.empty();
        JsonNode q = node.path("quota");
        if (!q.isMissingNode() && !q.isNull()) {
            String at = where + ".quota";
            requireObject(q, at, QUOTA);
            CalendarQuota.Period period =
                    switch (text(q, "period", at)) {
                        case "day" -> CalendarQuota.Period.DAY;
                        case "month" -> CalendarQuota.Period.MONTH;
                        default -> throw new IllegalArgumentException(at + ".period: day or month");
                    };
            ZoneId zone;
            try {
                zone = ZoneId.of(q.path("zone").asText("UTC"));
            } catch (DateTimeException e) {
                throw new IllegalArgumentException(
                        at + ".zone: not a time zone: " + q.path("zone").asText());
            }
            JsonNode block = q.path("block");
            if (!block.isMissingNode() && !block.isBoolean()) {
                throw new IllegalArgumentException(at + ".block: true or false");
            }
            quota = Optional.of(new CalendarQuota(period, longField(q, "limit", at), zone, block.asBoolean(true)));
        }
        try {
            return new PlanLimits(rates, quota);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + ": " + e.getMessage());
        }
    }

    /** Limits per operation id: {@code {"list-entries": {…limits…}}}. */
    public static Map<String, PlanLimits> parseOperations(JsonNode node, String where) {
        Map<String, PlanLimits> out = new LinkedHashMap<>();
        if (node == null || node.isNull() || node.isMissingNode()) {
            return out;
        }
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + ": must be an object of operation id to limits");
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), parse(e.getValue(), where + "." + e.getKey()));
        }
        return out;
    }

    public static ObjectNode write(PlanLimits limits) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode rates = out.putArray("rates");
        for (Limit l : limits.rates()) {
            rates.addObject().put("requests", l.requests()).put("per", l.per().toSeconds() + "s");
        }
        limits.quota().ifPresent(q -> out.putObject("quota")
                .put("period", q.period().name().toLowerCase(Locale.ROOT))
                .put("limit", q.limit())
                .put("zone", q.zone().getId())
                .put("block", q.blockWhenUsedUp()));
        return out;
    }

    public static ObjectNode writeOperations(Map<String, PlanLimits> operations) {
        ObjectNode out = JSON.createObjectNode();
        operations.forEach((id, limits) -> out.set(id, write(limits)));
        return out;
    }

    /** {@code 1s}, {@code 30s}, {@code 1m}, {@code 1h}, {@code 1d}. */
    static Duration duration(String text, String where) {
        if (!text.matches("[1-9][0-9]{0,5}[smhd]")) {
            throw new IllegalArgumentException(
                    where + ".per: a whole number of s, m, h or d, e.g. 1s or 1m; got " + text);
        }
        long n = Long.parseLong(text.substring(0, text.length() - 1));
        return switch (text.charAt(text.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private static void requireObject(JsonNode node, String where, Set<String> allowed) {
        if (!node.isObject()) {
            throw new IllegalArgumentException(where + ": must be an object");
        }
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!allowed.contains(name)) {
                throw new IllegalArgumentException(where + ": unknown field '" + name + "' (known: "
                        + allowed.stream().sorted().toList() + ")");
            }
        }
    }

    private static long longField(JsonNode node, String field, String where) {
        JsonNode v = node.path(field);
        if (!v.canConvertToExactIntegral() || !v.isNumber()) {
            throw new IllegalArgumentException(where + "." + field + ": a whole number");
        }
        return v.asLong();
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode v = node.path(field);
        if (!v.isTextual()) {
            throw new IllegalArgumentException(where + "." + field + ": required text");
        }
        return v.asText();
    }
}
