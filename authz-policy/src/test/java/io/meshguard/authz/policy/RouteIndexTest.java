package io.meshguard.authz.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.re2j.Pattern;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RouteIndexTest {
    private static final String[] HOSTS = {
        "api.bank.example",
        "partners.bank.example",
        "a.internal.bank.example",
        "b.a.internal.bank.example",
        "internal.bank.example",
        "bank.example",
        "other.example"
    };
    private static final String[] HOST_RULES = {
        "api.bank.example",
        "partners.bank.example",
        "*.internal.bank.example",
        "*.bank.example",
        "*.example",
        "internal.bank.example",
        "bank.example"
    };
    private static final String[] SEGMENTS = {"v1", "v2", "accounts", "payments", "a", "ab", "42", ""};
    private static final String[] METHODS = {"GET", "POST", "DELETE"};

    @Test
    void index_picksExactlyWhatTheLinearScanPicks_overGeneratedPoliciesAndRequests() {
        int compared = 0;
        int matched = 0;
        for (long seed = 1; seed <= 300; seed++) {
            Random rnd = new Random(seed);
            List<RoutePolicy> routes = new ArrayList<>();
            int n = 1 + rnd.nextInt(40);
            for (int i = 0; i < n; i++) {
                routes.add(route("r" + i, randomMatch(rnd)));
            }
            RouteIndex index = RouteIndex.of(routes);
            for (int q = 0; q < 200; q++) {
                String h = HOSTS[rnd.nextInt(HOSTS.length)];
                if (rnd.nextInt(4) == 0) {
                    h = h.toUpperCase(java.util.Locale.ROOT);
                }
                String host = rnd.nextInt(4) == 0 ? h + ":8443" : h;
                String path = randomPath(rnd);
                String method = METHODS[rnd.nextInt(METHODS.length)];
                Optional<RoutePolicy> linear = routes.stream()
                        .filter(r -> r.match().matches(host, path, method))
                        .findFirst();
                Optional<RoutePolicy> indexed = index.select(host, path, method);
                assertThat(indexed.map(RoutePolicy::name))
                        .as("seed %d: %s %s%s", seed, method, host, path)
                        .isEqualTo(linear.map(RoutePolicy::name));
                compared++;
                matched += linear.isPresent() ? 1 : 0;
            }
        }
        // the generator must exercise both outcomes, or the property says nothing
        assertThat(matched).isGreaterThan(compared / 10).isLessThan(compared - compared / 10);
    }

    @Test
    void prefixEndingInSlash_andSegmentBoundaries_matchAsTheRouteMatchDoes() {
        List<RoutePolicy> routes = List.of(
                route("slash", new RouteMatch(Set.of(), new PathMatch.Prefix("/v1/"), Set.of())),
                route("segment", new RouteMatch(Set.of(), new PathMatch.Prefix("/v1"), Set.of())));
        RouteIndex index = RouteIndex.of(routes);
        assertThat(index.select("h", "/v1/x", "GET")).map(RoutePolicy::name).contains("slash");
        assertThat(index.select("h", "/v1", "GET")).map(RoutePolicy::name).contains("segment");
        assertThat(index.select("h", "/v1x", "GET")).isEmpty();
    }

    @Test
    void wildcardHost_needsAtLeastOneLabelBeforeTheSuffix() {
        RouteIndex index = RouteIndex.of(
                List.of(route("w", new RouteMatch(Set.of("*.bank.example"), new PathMatch.Any(), Set.of()))));
        assertThat(index.select("x.bank.example", "/", "GET")).isPresent();
        assertThat(index.select("X.Y.BANK.EXAMPLE:443", "/", "GET")).isPresent();
        assertThat(index.select("bank.example", "/", "GET")).isEmpty();
        assertThat(index.select(".bank.example", "/", "GET")).isEmpty();
        assertThat(index.select("xbank.example", "/", "GET")).isEmpty();
    }

    @Test
    void namedLookup_findsTheRouteByName() {
        RouteIndex index = RouteIndex.of(List.of(route("a", new RouteMatch(Set.of(), new PathMatch.Any(), Set.of()))));
        assertThat(index.named("a")).isPresent();
        assertThat(index.named("b")).isEmpty();
    }

    private static RouteMatch randomMatch(Random rnd) {
        Set<String> hosts = new LinkedHashSet<>();
        int nh = rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(2);
        for (int i = 0; i < nh; i++) {
            hosts.add(HOST_RULES[rnd.nextInt(HOST_RULES.length)]);
        }
        PathMatch path =
                switch (rnd.nextInt(6)) {
                    case 0 -> new PathMatch.Any();
                    case 1 -> new PathMatch.Regex(Pattern.compile("^/v[12]/[a-z]+$"));
                    case 2, 3 -> new PathMatch.Prefix(randomPath(rnd) + (rnd.nextInt(3) == 0 ? "/" : ""));
                    default -> new PathMatch.Exact(randomPath(rnd));
                };
        Set<String> methods = new LinkedHashSet<>();
        if (rnd.nextBoolean()) {
            methods.add(METHODS[rnd.nextInt(METHODS.length)]);
        }
        return new RouteMatch(Set.copyOf(hosts), path, Set.copyOf(methods));
    }

    private static String randomPath(Random rnd) {
        StringBuilder sb = new StringBuilder();
        int segments = 1 + rnd.nextInt(3);
        for (int i = 0; i < segments; i++) {
            sb.append('/').append(SEGMENTS[rnd.nextInt(SEGMENTS.length)]);
        }
        String p = sb.toString();
        return p.length() > 1 && p.endsWith("/") && rnd.nextBoolean() ? p.substring(0, p.length() - 1) : p;
    }

    static RoutePolicy route(String name, RouteMatch match) {
        return new RoutePolicy(
                name, match, AuthMode.NONE, RoleRequirement.NONE, Set.of(), true, false, Optional.empty(), 1);
    }
}
