package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.TestConfigs;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The validator carries its checks across routes over to the next configuration a few routes apart:
 * whatever the sequence of edits, valid or not, it finds exactly what a validator that remembers nothing finds, in the
 * same order. The edits reach every check that looks across routes: duplicate names, shadowed matches, hostname
 * clashes between the APIs a group serves, Service hostnames, unknown upstreams and APIs.
 */
class ConfigValidatorChangesTest {
    private static final ConfigValidator.EnvoyLoad NO_ENVOY = c -> List.of();
    private static final int UPSTREAMS = 10;
    private static final List<String> APIS =
            List.of("api-0", "api-1", "api-2", "api-3", "clash-a", "clash-b", "svc", "svc-prod");

    @Test
    void validate_randomEditSequences_findWhatAWholeCheckFinds_inTheSameOrder() {
        Set<ProblemCode> seen = EnumSet.noneOf(ProblemCode.class);
        long carriedBefore = CheckedRoutes.carried();
        int steps = 0;
        for (long seed = 1; seed <= 8; seed++) {
            Random random = new Random(seed);
            ConfigValidator validator = new ConfigValidator();
            GatewayConfig config = config();
            assertSameAsWhole(validator, config, "seed " + seed + ", first", seen);
            for (int step = 0; step < 80; step++) {
                Edit edit = Edit.values()[random.nextInt(Edit.values().length)];
                config = edit.apply(config, random);
                assertSameAsWhole(validator, config, "seed " + seed + ", step " + step + " " + edit, seen);
                steps++;
            }
        }
        assertThat(seen)
                .contains(
                        ProblemCode.ROUTE_DUPLICATE,
                        ProblemCode.ROUTE_SHADOWED,
                        ProblemCode.HOSTNAME_BASE_PATH_CLASH,
                        ProblemCode.ROUTE_SERVICE_HOSTNAME_OTHER_UPSTREAM,
                        ProblemCode.ROUTE_UNKNOWN_UPSTREAM,
                        ProblemCode.ROUTE_UNKNOWN_API,
                        ProblemCode.ROUTE_UNKNOWN_GROUP);
        // most edits are carried over, not checked whole: otherwise this test proves nothing about carrying
        assertThat(CheckedRoutes.carried() - carriedBefore).isGreaterThan(steps / 3);
    }

    @Test
    void validate_oneRouteEdited_isCarriedOver_butAShadowItCreatesIsCheckedWhole() {
        ConfigValidator validator = new ConfigValidator();
        GatewayConfig config = config();
        assertThat(validator.validate(config, NO_ENVOY).valid()).isTrue();
        long carried = CheckedRoutes.carried();

        GatewayConfig weights = replace(
                config, 5, r -> r.withDestinations(List.of(TestConfigs.to("up-1", 60), TestConfigs.to("up-2", 40))));
        assertThat(validator.validate(weights, NO_ENVOY).problems())
                .isEqualTo(new ConfigValidator().validate(weights, NO_ENVOY).problems());
        assertThat(CheckedRoutes.carried() - carried).isEqualTo(1);

        // route 2 takes route 0's match in the same group: a key two routes share is checked whole, and found
        Route first = weights.routes().get(0);
        GatewayConfig shadowing = replace(
                weights,
                2,
                r -> route(r.group(), r.name(), first.api(), first.version(), pathOf(first), r.destinations()));
        assertThat(validator.validate(shadowing, NO_ENVOY).problems())
                .filteredOn(p -> p.code() == ProblemCode.ROUTE_SHADOWED)
                .singleElement()
                .satisfies(p -> assertThat(p.path()).isEqualTo("routes[g/r-2].match"));
        assertThat(CheckedRoutes.carried() - carried).isEqualTo(1);
    }

    private static void assertSameAsWhole(
            ConfigValidator validator, GatewayConfig config, String when, Set<ProblemCode> seen) {
        List<Problem> carried = validator.validate(config, NO_ENVOY).problems();
        List<Problem> whole =
                new ConfigValidator().forOneOff().validate(config, NO_ENVOY).problems();
        assertThat(carried).as(when).isEqualTo(whole);
        whole.forEach(p -> seen.add(p.code()));
    }

    /** What a draft edit does; some make the configuration invalid, as a refused PUT would have tried. */
    private enum Edit {
        WEIGHTS {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                int w = 1 + random.nextInt(99);
                return TestConfigs.withARouteEdited(
                        c,
                        random,
                        r -> r.withDestinations(List.of(
                                new Route.Destination(upstream(random), w),
                                new Route.Destination(upstream(random), 100 - w))));
            }
        },
        PATH_FROM_A_FEW {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                String path = "/s" + random.nextInt(4);
                return TestConfigs.withARouteEdited(
                        c, random, r -> route(r.group(), r.name(), r.api(), r.version(), path, r.destinations()));
            }
        },
        RENAMED_FROM_A_FEW {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                String name = "r-" + random.nextInt(30);
                return TestConfigs.withARouteEdited(
                        c, random, r -> route(r.group(), name, r.api(), r.version(), pathOf(r), r.destinations()));
            }
        },
        MOVED_TO_ANOTHER_API_OR_GROUP {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                String api = random.nextInt(10) == 0 ? "no-such-api" : APIS.get(random.nextInt(APIS.size()));
                String group = random.nextInt(12) == 0 ? "no-such-group" : random.nextBoolean() ? "g" : "p";
                return TestConfigs.withARouteEdited(
                        c, random, r -> route(group, r.name(), api, "v1", pathOf(r), r.destinations()));
            }
        },
        TO_AN_UNKNOWN_UPSTREAM {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                return TestConfigs.withARouteEdited(
                        c, random, r -> r.withDestinations(List.of(new Route.Destination("up-gone", 100))));
            }
        },
        ADDED {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                List<Route> routes = new ArrayList<>(c.routes());
                routes.add(
                        random.nextInt(routes.size() + 1),
                        route(
                                random.nextBoolean() ? "g" : "p",
                                "r-" + random.nextInt(60),
                                APIS.get(random.nextInt(APIS.size())),
                                "v1",
                                "/s" + random.nextInt(8),
                                List.of(new Route.Destination(upstream(random), 100))));
                return new GatewayConfig(c.groups(), c.upstreams(), c.apis(), routes);
            }
        },
        REMOVED {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                return TestConfigs.withARouteRemoved(c, random);
            }
        },
        TWO_APART {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                return WEIGHTS.apply(PATH_FROM_A_FEW.apply(c, random), random);
            }
        },
        UNCHANGED_BUT_READ_AGAIN {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                return TestConfigs.readAgain(c);
            }
        },
        UPSTREAM_CHANGED {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                List<Upstream> ups = new ArrayList<>(c.upstreams());
                int i = random.nextInt(ups.size());
                ups.set(i, upstream(ups.get(i).name(), random.nextBoolean() ? "10.0.0." + (i + 1) : "svc.shop.svc"));
                return new GatewayConfig(c.groups(), ups, c.apis(), c.routes());
            }
        },
        API_CHANGED {
            @Override
            GatewayConfig apply(GatewayConfig c, Random random) {
                List<Api> apis = new ArrayList<>(c.apis());
                int i = random.nextInt(apis.size());
                Api a = apis.get(i);
                apis.set(
                        i,
                        new Api(
                                a.name(),
                                random.nextBoolean() ? "/c" : "/" + a.name(),
                                "v1",
                                a.hostnames(),
                                a.versions()));
                return new GatewayConfig(c.groups(), c.upstreams(), apis, c.routes());
            }
        };

        abstract GatewayConfig apply(GatewayConfig c, Random random);
    }

    private static GatewayConfig replace(GatewayConfig c, int i, UnaryOperator<Route> edit) {
        return TestConfigs.withRouteEdited(c, i, edit);
    }

    private static String upstream(Random random) {
        return "up-" + random.nextInt(UPSTREAMS);
    }

    private static String pathOf(Route r) {
        return r.match().pathPrefix().orElseThrow();
    }

    /**
     * Two groups (one production, so a Service hostname is an error there), APIs that clash on one hostname and base
     * path when a group serves both, and APIs served under Kubernetes Service names that most upstreams are not.
     */
    private static GatewayConfig config() {
        List<GatewayGroup> groups = List.of(group("g", "staging"), group("p", "prod"));
        List<Api> apis = new ArrayList<>();
        for (String name : APIS) {
            List<String> hostnames =
                    switch (name) {
                        case "clash-a", "clash-b" -> List.of("clash.bank.example");
                        case "svc" -> List.of("svc.shop.svc");
                        case "svc-prod" -> List.of("svc.shop.svc.cluster.local");
                        default -> List.of();
                    };
            apis.add(new Api(
                    name,
                    name.startsWith("clash") ? "/c" : "/" + name,
                    "v1",
                    hostnames,
                    List.of(new Api.ApiVersion("v1", Api.Status.ACTIVE, null, null, null))));
        }
        List<Upstream> ups = new ArrayList<>();
        for (int i = 0; i < UPSTREAMS; i++) {
            ups.add(upstream("up-" + i, i == 0 ? "svc.shop.svc" : "10.0.0." + (i + 1)));
        }
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            routes.add(route(
                    i % 2 == 0 ? "g" : "p",
                    "r-" + i,
                    APIS.get(i % 4),
                    "v1",
                    "/res" + i,
                    List.of(new Route.Destination("up-" + (i % UPSTREAMS), 100))));
        }
        return new GatewayConfig(groups, ups, apis, routes);
    }

    private static GatewayGroup group(String name, String environment) {
        return new GatewayGroup(
                name,
                environment,
                "eu",
                Optional.of("bank.example"),
                List.of(),
                null,
                0,
                GatewayGroup.ProxylessAuthz.OFF,
                Optional.empty(),
                Map.of());
    }

    private static Upstream upstream(String name, String address) {
        return new Upstream(
                name,
                Upstream.Protocol.H2,
                null,
                0,
                List.of(new Upstream.Endpoint(address, 8080, 1)),
                null,
                null,
                null,
                null,
                List.of());
    }

    private static Route route(
            String group, String name, String api, String version, String path, List<Route.Destination> destinations) {
        return TestConfigs.route(group, name, api, version, path, destinations.toArray(Route.Destination[]::new));
    }
}
