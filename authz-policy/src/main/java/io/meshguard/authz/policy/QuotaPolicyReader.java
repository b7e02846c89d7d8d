package io.meshguard.authz.policy;

import io.meshguard.runtime.yaml.YamlNode;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads the {@code quotas:} block (policies/README.md §quotas), collecting every problem with its line: unknown time
 * zones, percentages outside 1–100, tiers the rate limits do not define, routes the policy does not have.
 */
final class QuotaPolicyReader {
    private static final Set<String> KEYS =
            Set.of("name", "per", "period", "timezone", "limits", "default_tier", "on_exceed", "alerts", "routes");
    /** Names go into Redis keys, database rows and metric labels: a short, plain vocabulary. */
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,63}");

    private static final Pattern PERCENT = Pattern.compile("([0-9]{1,3})%?");
    private static final int MAX_QUOTAS = 64;

    private final YamlDoc doc;

    QuotaPolicyReader(YamlDoc doc) {
        this.doc = doc;
    }

    List<QuotaPolicy> quotas(YamlNode node, Optional<RateLimitPolicy> rateLimits, Set<String> routeNames) {
        List<QuotaPolicy> out = new ArrayList<>();
        Set<String> names = new HashSet<>();
        List<YamlNode> items = doc.sequence(node, "quotas");
        if (items.size() > MAX_QUOTAS) {
            doc.error(node, "quotas: at most " + MAX_QUOTAS + " quotas (each adds a counter to every Check)");
        }
        for (YamlNode item : items) {
            quota(item, rateLimits, routeNames).ifPresent(q -> {
                if (!names.add(q.name())) {
                    doc.error(q.line(), "quotas: name '" + q.name() + "' is used twice");
                }
                out.add(q);
            });
        }
        return List.copyOf(out);
    }

    private Optional<QuotaPolicy> quota(YamlNode node, Optional<RateLimitPolicy> rateLimits, Set<String> routeNames) {
        Map<String, YamlNode> m = doc.mapping(node, "quota", KEYS);
        Optional<String> name = required(m, "name", node, "quota")
                .flatMap(n -> doc.string(n, "quota.name"))
                .flatMap(n -> {
                    if (!NAME.matcher(n).matches()) {
                        doc.error(
                                m.get("name"),
                                "quota.name '" + n + "' must be 1-64 of a-z 0-9 _ . - (it names counters and metrics)");
                        return Optional.empty();
                    }
                    return Optional.of(n);
                });
        String what = "quota " + name.orElse("?");
        Optional<QuotaPolicy.Per> per = required(m, "per", node, what)
                .flatMap(n -> choice(n, what + ".per", QuotaPolicy.Per.values(), QuotaPolicy.Per::yaml));
        Optional<QuotaPolicy.Period> period = required(m, "period", node, what)
                .flatMap(n -> choice(n, what + ".period", QuotaPolicy.Period.values(), QuotaPolicy.Period::yaml));
        Optional<ZoneId> zone = required(m, "timezone", node, what)
                .flatMap(n -> doc.string(n, what + ".timezone"))
                .flatMap(z -> {
                    try {
                        // region ids only (Asia/Seoul, Europe/Berlin, UTC): a fixed offset like +09:00 would silently
                        // ignore DST
                        if (z.isBlank() || z.startsWith("+") || z.startsWith("-")) {
                            throw new DateTimeException("not a region id");
                        }
                        return Optional.of(ZoneId.of(z));
                    } catch (DateTimeException e) {
                        doc.error(
                                m.get("timezone"),
                                what + ".timezone: '" + z + "' is not a known time zone (use an IANA name such as"
                                        + " Asia/Seoul, Europe/Berlin or UTC)");
                        return Optional.empty();
                    }
                });
        Set<String> knownTiers = rateLimits.map(r -> r.tiers().keySet()).orElse(Set.of());
        Map<String, Long> limits = new LinkedHashMap<>();
        if (required(m, "limits", node, what).isPresent()) {
            for (Map.Entry<String, YamlNode> e :
                    doc.mapping(m.get("limits"), what + ".limits", Set.of()).entrySet()) {
                String tier = e.getKey();
                if (!knownTiers.isEmpty() && !knownTiers.contains(tier)) {
                    doc.error(
                            e.getValue(),
                            what + ".limits: unknown tier '" + tier + "' (rate_limits.tiers defines "
                                    + String.join(", ", new java.util.TreeSet<>(knownTiers)) + ")");
                    continue;
                }
                limit(e.getValue(), what + ".limits." + tier).ifPresent(l -> limits.put(tier, l));
            }
            if (limits.isEmpty()
                    && m.get("limits").isMap()
                    && m.get("limits").entries().isEmpty()) {
                doc.error(m.get("limits"), what + ".limits: name at least one tier");
            }
        }
        String defaultTier;
        if (m.containsKey("default_tier")) {
            defaultTier =
                    doc.string(m.get("default_tier"), what + ".default_tier").orElse("");
        } else if (rateLimits.isPresent()) {
            defaultTier = rateLimits.get().defaultTier();
        } else {
            defaultTier = "";
            doc.error(node, what + ": 'default_tier' is missing (there is no rate_limits.default_tier to use)");
        }
        if (!defaultTier.isEmpty() && !limits.isEmpty() && !limits.containsKey(defaultTier)) {
            YamlNode at = m.getOrDefault("default_tier", m.get("limits"));
            doc.error(
                    at,
                    what + ".limits: has no entry for the default tier '" + defaultTier
                            + "' (callers of other tiers fall back to it)");
        }
        QuotaPolicy.OnExceed onExceed = m.containsKey("on_exceed")
                ? choice(
                                m.get("on_exceed"),
                                what + ".on_exceed",
                                QuotaPolicy.OnExceed.values(),
                                QuotaPolicy.OnExceed::yaml)
                        .orElse(QuotaPolicy.OnExceed.BLOCK)
                : QuotaPolicy.OnExceed.BLOCK;
        List<Integer> alerts = m.containsKey("alerts") ? alerts(m.get("alerts"), what + ".alerts") : List.of();
        Set<String> routes = new LinkedHashSet<>();
        if (m.containsKey("routes")) {
            for (String r : doc.strings(m.get("routes"), what + ".routes")) {
                if (!routeNames.contains(r)) {
                    doc.error(m.get("routes"), what + ".routes: no route named '" + r + "'");
                } else {
                    routes.add(r);
                }
            }
        }
        if (name.isEmpty()
                || per.isEmpty()
                || period.isEmpty()
                || zone.isEmpty()
                || limits.isEmpty()
                || defaultTier.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new QuotaPolicy(
                name.get(),
                per.get(),
                period.get(),
                zone.get(),
                Map.copyOf(limits),
                defaultTier,
                onExceed,
                alerts,
                Set.copyOf(routes),
                node.line()));
    }

    private Optional<Long> limit(YamlNode node, String what) {
        Optional<String> v = doc.string(node, what);
        if (v.isPresent() && v.get().trim().equalsIgnoreCase("unlimited")) {
            return Optional.of(QuotaPolicy.UNLIMITED);
        }
        if (v.isPresent() && v.get().trim().equals("0")) {
            return Optional.of(0L); // a tier that may not use the API at all
        }
        return v.isPresent() ? doc.positiveLong(node, what + " (a whole number or 'unlimited')") : Optional.empty();
    }

    private List<Integer> alerts(YamlNode node, String what) {
        Set<Integer> out = new java.util.TreeSet<>();
        for (String a : doc.strings(node, what)) {
            var matcher = PERCENT.matcher(a.trim());
            int pct = matcher.matches() ? Integer.parseInt(matcher.group(1)) : -1;
            if (pct < 1 || pct > 100) {
                doc.error(node, what + ": '" + a + "' is not a percentage between 1% and 100%");
            } else if (!out.add(pct)) {
                doc.error(node, what + ": " + pct + "% is listed twice");
            }
        }
        return List.copyOf(out);
    }

    private <E> Optional<E> choice(
            YamlNode node, String what, E[] values, java.util.function.Function<E, String> yaml) {
        return doc.string(node, what).flatMap(v -> {
            String lower = v.trim().toLowerCase(Locale.ROOT);
            for (E e : values) {
                if (yaml.apply(e).equals(lower)) {
                    return Optional.of(e);
                }
            }
            List<String> allowed = new ArrayList<>();
            for (E e : values) {
                allowed.add(yaml.apply(e));
            }
            doc.error(node, what + ": '" + v + "' is not one of " + String.join(", ", allowed));
            return Optional.empty();
        });
    }

    private Optional<YamlNode> required(Map<String, YamlNode> m, String key, YamlNode owner, String what) {
        if (!m.containsKey(key)) {
            doc.error(owner, what + ": '" + key + "' is missing");
            return Optional.empty();
        }
        return Optional.of(m.get(key));
    }
}
