package io.meshguard.xds.proxyless;

import static io.meshguard.xds.TestConfigs.active;
import static io.meshguard.xds.TestConfigs.api;
import static io.meshguard.xds.TestConfigs.group;
import static io.meshguard.xds.TestConfigs.route;
import static io.meshguard.xds.TestConfigs.to;
import static io.meshguard.xds.TestConfigs.upstream;
import static io.meshguard.xds.TestConfigs.version;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.TemporaryDirectories;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.store.InMemoryRevisionStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * grpc-java's own xDS client consumes the controller's resources over a real ADS stream and makes real RPCs to
 * backends on loopback. One controller and one set of backends for the class (xDS clients are slow to start); each
 * test has its own gateway group and node, so tests do not see each other's publishes.
 */
@IntegrationTest
class ProxylessGrpcClientTest {
    private static final String FLAG = "GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT";

    static Backend a;
    static Backend b;
    static Backend c;
    static ExtAuthzServer authz;
    static final List<AuthzDecisionEvent> decisions = new CopyOnWriteArrayList<>();
    static SimpleMeterRegistry meters;
    static XdsCore core;
    static XdsClients clients;
    /** Config of each test's group; a publish sends the union, as the admin API does. */
    static final Map<String, GatewayConfig> parts = new ConcurrentHashMap<>();

    /** The extauthz server's policy file; removed after the class. */
    static Path policyDir;

    @BeforeAll
    static void start() throws Exception {
        a = new Backend("A");
        b = new Backend("B");
        c = new Backend("C");
        // Our own extauthz-server, with a policy whose only route needs a JWT: a proxyless call carries none.
        policyDir = Files.createTempDirectory("xds-authz-policy");
        Path policy = Files.writeString(policyDir.resolve("authz.yaml"), """
                issuers:
                  - name: test-idp
                    issuer: https://idp.test.example
                    jwks_uri: http://127.0.0.1:9/never-fetched.json
                    audiences: [meshguard]
                    algorithms: [RS256]
                    claims: {subject: sub}
                routes:
                  - name: echo
                    match: {path_prefix: /test.Echo/}
                    auth: jwt
                """);
        authz = new ExtAuthzServer(
                ExtAuthzConfig.onLoopback(policy, Duration.ofSeconds(1)),
                new SimpleMeterRegistry(),
                Optional.empty(),
                decisions::add,
                Clock.systemUTC());
        authz.start();
        // grpc-java 1.85.1 runs ext_authz on the client only behind this flag (read when a listener is parsed)
        System.setProperty(FLAG, "true");
        meters = new SimpleMeterRegistry();
        FilterTargets targets = new FilterTargets(
                "127.0.0.1:" + authz.grpcPort(), "127.0.0.1:9002", "127.0.0.1:9003", Duration.ofSeconds(2));
        core = new XdsCore(
                        new InetSocketAddress("127.0.0.1", 0),
                        targets,
                        new InMemoryRevisionStore(Clock.systemUTC()),
                        Optional.empty(),
                        s -> {},
                        meters,
                        Clock.systemUTC())
                .start();
        clients = new XdsClients(core.adsPort());
    }

    @AfterAll
    static void stop() throws Exception {
        System.clearProperty(FLAG);
        clients.close();
        core.close();
        authz.close();
        a.close();
        b.close();
        c.close();
        TemporaryDirectories.deleteQuietly(policyDir);
    }

    static synchronized Publisher.Result publish(String group, GatewayConfig part) {
        Map<String, GatewayConfig> next = new HashMap<>(parts);
        next.put(group, part);
        Publisher.Result result = core.publisher().publish(union(next), "test", "test " + group);
        if (result.published()) {
            parts.put(group, part);
        }
        return result;
    }

    static Publisher.Result publishOk(String group, GatewayConfig part) {
        Publisher.Result result = publish(group, part);
        assertThat(result.published())
                .as("publish %s: %s", group, result.problems())
                .isTrue();
        return result;
    }

    static GatewayConfig union(Map<String, GatewayConfig> m) {
        List<GatewayGroup> g = new ArrayList<>();
        List<Upstream> u = new ArrayList<>();
        List<Api> ap = new ArrayList<>();
        List<Route> r = new ArrayList<>();
        m.values().forEach(x -> {
            g.addAll(x.groups());
            u.addAll(x.upstreams());
            ap.addAll(x.apis());
            r.addAll(x.routes());
        });
        return new GatewayConfig(g, u, ap, r);
    }

    static GatewayConfig single(String grp, List<Upstream> ups, Api api, Route... routes) {
        return new GatewayConfig(
                List.of(group(grp, GatewayGroup.ProxylessAuthz.OFF)), ups, List.of(api), List.of(routes));
    }

    @Test
    void routing_byPath_eachServiceReachesItsUpstream() {
        String g = "routing";
        publishOk(
                g,
                single(
                        g,
                        List.of(upstream(g + "-echo", a.port()), upstream(g + "-other", b.port())),
                        api("svc", "svc.routing", "", "v1", active("v1")),
                        route(g, "echo", "svc", "v1", "/test.Echo/", to(g + "-echo", 100)),
                        route(g, "other", "svc", "v1", "/test.Other/", to(g + "-other", 100))));
        ManagedChannel ch = clients.channel("node-routing", g, "svc.routing");

        assertThat(XdsClients.call(ch, "test.Echo/Who")).isEqualTo("A");
        assertThat(XdsClients.call(ch, "test.Other/Who")).isEqualTo("B");
        assertThat(XdsClients.call(ch, "v1/test.Other/Who")).isEqualTo("B");
        assertThatThrownBy(() -> XdsClients.call(ch, "test.Unknown/Who"))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    }

    /** Review 4, R4-12: a prefix without a trailing '/' stops at a segment boundary for grpc-java too. */
    @Test
    void prefixWithoutTrailingSlash_routesItsServiceOnly_notANeighbourWithTheSameStart() {
        String g = "segments";
        publishOk(
                g,
                single(
                        g,
                        List.of(upstream(g + "-echo", a.port())),
                        api("segments", "svc.segments", "", "v1", active("v1")),
                        route(g, "echo", "segments", "v1", "/test.Echo", to(g + "-echo", 100))));
        ManagedChannel ch = clients.channel("node-segments", g, "svc.segments");

        assertThat(XdsClients.call(ch, "test.Echo/Who")).isEqualTo("A");
        assertThatThrownBy(() -> XdsClients.call(ch, "test.EchoAdmin/Who"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
                                e.getStatus().getCode())
                        .as(e.getStatus().toString())
                        .isEqualTo(Status.Code.UNAVAILABLE));
    }

    @Test
    void upstreamNamedByDns_isALogicalDnsCluster_thatGrpcJavaResolvesAndCalls() {
        String g = "dns";
        // one DNS name: LOGICAL_DNS, the one DNS cluster type grpc-java accepts (XdsClusterResource)
        Upstream byName = new Upstream(
                g + "-backend",
                Upstream.Protocol.GRPC,
                null,
                0,
                List.of(new Upstream.Endpoint("localhost", b.port(), 1)),
                null,
                null,
                null,
                null,
                List.of(new Upstream.AddressException("localhost", b.port(), "test backend on this machine")));
        assertThat(byName.discovery()).isEqualTo(Upstream.Discovery.LOGICAL_DNS);
        publishOk(
                g,
                single(
                        g,
                        List.of(byName),
                        api("svc-dns", "svc.dns", "", "v1", active("v1")),
                        route(g, "all", "svc-dns", "v1", "/", to(g + "-backend", 100))));
        ManagedChannel ch = clients.channel("node-dns", g, "svc.dns");

        assertThat(XdsClients.call(ch, "test.Echo/Who")).isEqualTo("B");
        assertThat(core.fleet().node("node-dns").orElseThrow().lastNack()).isEmpty();
    }

    @Test
    void weightedSplit_80_20_isWithinFivePercentOver2000Calls() throws Exception {
        String g = "weights";
        publishOk(
                g,
                single(
                        g,
                        List.of(upstream(g + "-stable", a.port()), upstream(g + "-canary", b.port())),
                        api("pay", "pay.weights", "", "v1", active("v1")),
                        route(g, "split", "pay", "v1", "/", to(g + "-stable", 80), to(g + "-canary", 20))));
        ManagedChannel ch = clients.channel("node-weights", g, "pay.weights");

        XdsClients.call(ch, "test.Echo/Who");
        Map<String, Integer> seen = XdsClients.callMany(ch, "test.Echo/Who", 2000);
        assertThat(seen.keySet()).containsExactlyInAnyOrder("A", "B");
        assertThat(seen.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(2000);
        assertThat(seen.get("A") / 2000.0).isBetween(0.75, 0.85);
        assertThat(seen.get("B") / 2000.0).isBetween(0.15, 0.25);
    }

    @Test
    void sunsetVersion_failsWhileItsSuccessorServes() {
        String g = "lifecycle";
        Instant deprecated = Instant.parse("2025-01-01T00:00:00Z");
        Instant sunset = Instant.parse("2026-01-01T00:00:00Z");
        publishOk(
                g,
                single(
                        g,
                        List.of(upstream(g + "-v2", a.port())),
                        api(
                                "legacy",
                                "legacy.lifecycle",
                                "",
                                "v2",
                                version("v1", Api.Status.SUNSET, deprecated, sunset, "v2"),
                                active("v2")),
                        route(g, "echo", "legacy", "v2", "/test.Echo/", to(g + "-v2", 100))));
        ManagedChannel ch = clients.channel("node-lifecycle", g, "legacy.lifecycle");

        assertThat(XdsClients.call(ch, "test.Echo/Who")).isEqualTo("A");
        assertThat(XdsClients.call(ch, "v2/test.Echo/Who")).isEqualTo("A");
        int before = a.calls.get();
        assertThatThrownBy(() -> XdsClients.call(ch, "v1/test.Echo/Who"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    // HTTP 410 through gRPC's HTTP-to-status table
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
                    assertThat(e.getStatus().getDescription()).contains("410");
                });
        assertThat(a.calls.get()).isEqualTo(before);
    }

    @Test
    void endpointChange_isPickedUpOnTheSameStream_andPushesOnlyEds() {
        String g = "endpoints";
        Api svc = api("svc-endpoints", "svc.endpoints", "", "v1", active("v1"));
        Route r = route(g, "all", "svc-endpoints", "v1", "/", to(g + "-backend", 100));
        publishOk(g, single(g, List.of(upstream(g + "-backend", a.port())), svc, r));
        ManagedChannel ch = clients.channel("node-endpoints", g, "svc.endpoints");
        assertThat(XdsClients.call(ch, "test.Echo/Who")).isEqualTo("A");
        var before = core.snapshots().served(g).orElseThrow().versions();
        double ldsBefore = responses("Listener");
        double rdsBefore = responses("RouteConfiguration");
        double cdsBefore = responses("Cluster");
        int streams = core.fleet().node("node-endpoints").orElseThrow().streams();

        publishOk(g, single(g, List.of(upstream(g + "-backend", c.port())), svc, r));

        await().atMost(Duration.ofSeconds(10))
                .until(() -> XdsClients.call(ch, "test.Echo/Who").equals("C"));
        var after = core.snapshots().served(g).orElseThrow().versions();
        assertThat(after.endpoints()).isNotEqualTo(before.endpoints());
        assertThat(after.listeners()).isEqualTo(before.listeners());
        assertThat(after.routes()).isEqualTo(before.routes());
        assertThat(after.clusters()).isEqualTo(before.clusters());
        assertThat(core.fleet().node("node-endpoints").orElseThrow().streams()).isEqualTo(streams);
        assertThat(responses("Listener")).isEqualTo(ldsBefore);
        assertThat(responses("RouteConfiguration")).isEqualTo(rdsBefore);
        assertThat(responses("Cluster")).isEqualTo(cdsBefore);
    }

    @Test
    void rollback_servesTheEarlierRoutingAgain() {
        String g = "rollback";
        Api svc = api("svc-rollback", "svc.rollback", "", "v1", active("v1"));
        List<Upstream> ups = List.of(upstream(g + "-one", a.port()), upstream(g + "-two", b.port()));
        long first = publishOk(g, single(g, ups, svc, route(g, "all", "svc-rollback", "v1", "/", to(g + "-one", 100))))
                .revision()
                .orElseThrow()
                .id();
        ManagedChannel ch = clients.channel("node-rollback", g, "svc.rollback");
        assertThat(XdsClients.call(ch, "test.Echo/Who")).isEqualTo("A");
        long second = publishOk(g, single(g, ups, svc, route(g, "all", "svc-rollback", "v1", "/", to(g + "-two", 100))))
                .revision()
                .orElseThrow()
                .id();
        await().atMost(Duration.ofSeconds(10))
                .until(() -> XdsClients.call(ch, "test.Echo/Who").equals("B"));

        Publisher.Result rolledBack = core.publisher().rollback(first, "test");

        assertThat(rolledBack.revision().orElseThrow().id()).isGreaterThan(second);
        assertThat(rolledBack.revision().orElseThrow().reason()).isEqualTo("rollback to revision " + first);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> XdsClients.call(ch, "test.Echo/Who").equals("A"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        core.fleet().node("node-rollback").orElseThrow().revision())
                .as(
                        "%s served %s",
                        core.fleet().node("node-rollback"), core.snapshots().served(g))
                .isEqualTo(core.publisher().servedRevision(g)));
    }

    @Test
    void invalidPublish_isRefusedAndTheOldRevisionKeepsServing() {
        String g = "invalid";
        Api svc = api("svc-invalid", "svc.invalid", "", "v1", active("v1"));
        List<Upstream> ups = List.of(upstream(g + "-one", a.port()), upstream(g + "-two", b.port()));
        publishOk(g, single(g, ups, svc, route(g, "all", "svc-invalid", "v1", "/", to(g + "-one", 100))));
        ManagedChannel ch = clients.channel("node-invalid", g, "svc.invalid");
        assertThat(XdsClients.call(ch, "test.Echo/Who")).isEqualTo("A");
        long served = core.publisher().servedRevision(g).orElseThrow();

        Publisher.Result bad = publish(
                g,
                single(g, ups, svc, route(g, "all", "svc-invalid", "v1", "/", to(g + "-one", 50), to(g + "-two", 40))));
        Publisher.Result dangling =
                publish(g, single(g, ups, svc, route(g, "all", "svc-invalid", "v1", "/", to(g + "-missing", 100))));

        assertThat(bad.published()).isFalse();
        assertThat(bad.problems()).anySatisfy(p -> assertThat(p.message()).contains("sum to 100, got 90"));
        assertThat(dangling.published()).isFalse();
        assertThat(dangling.problems())
                .anySatisfy(p -> assertThat(p.message()).contains("unknown upstream 'invalid-missing'"));
        assertThat(core.publisher().servedRevision(g)).contains(served);
        for (int i = 0; i < 20; i++) {
            assertThat(XdsClients.call(ch, "test.Echo/Who")).isEqualTo("A");
        }
    }

    @Test
    void nack_isRecordedInTheFleet_withoutAResendStorm_andAFixIsDelivered() throws Exception {
        String g = "nack";
        Api svc = api("svc-nack", "svc.nack", "", "v1", active("v1"));
        Route r = route(g, "all", "svc-nack", "v1", "/", to(g + "-backend", 100));
        // valid for Envoy, but grpc-java has no maglev balancer: the client rejects the cluster
        publishOk(g, single(g, List.of(upstream(g + "-backend", Upstream.LbPolicy.MAGLEV, a.port())), svc, r));
        ManagedChannel ch = clients.channel("node-nack", g, "svc.nack");
        ch.getState(true);

        await().atMost(Duration.ofSeconds(15)).until(() -> core.fleet()
                .node("node-nack")
                .flatMap(NodeStatus::lastNack)
                .isPresent());
        NodeStatus.Nack nack =
                core.fleet().node("node-nack").orElseThrow().lastNack().orElseThrow();
        assertThat(nack.typeUrl()).endsWith("envoy.config.cluster.v3.Cluster");
        assertThat(nack.version())
                .isEqualTo(core.snapshots().served(g).orElseThrow().versions().clusters());
        assertThat(nack.error()).isNotBlank();
        System.out.println("grpc-java NACK: " + nack.error());

        double nacks =
                meters.counter("meshguard_xds_nacks_total", "type", "Cluster").count();
        // the NACK answered a response this controller sent: its round trip is timed
        assertThat(meters.get("meshguard_xds_ack_latency_seconds")
                        .tag("type", "Cluster")
                        .tag("result", "nack")
                        .timer()
                        .count())
                .isPositive();
        Thread.sleep(1000);
        // parked: no new response, so no new NACK (unparked, java-control-plane loops ~1,500 times a second)
        assertThat(meters.counter("meshguard_xds_nacks_total", "type", "Cluster")
                        .count())
                .isEqualTo(nacks);

        publishOk(g, single(g, List.of(upstream(g + "-backend", Upstream.LbPolicy.ROUND_ROBIN, a.port())), svc, r));
        await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> XdsClients.call(ch, "test.Echo/Who", 2)
                .equals("A"));
        await().atMost(Duration.ofSeconds(10))
                .until(() ->
                        core.fleet().node("node-nack").orElseThrow().lastNack().isEmpty());
    }

    @Test
    void extAuthzDeny_blocksTheCallBeforeTheBackend() {
        String g = "authz";
        GatewayConfig part = new GatewayConfig(
                List.of(group(g, GatewayGroup.ProxylessAuthz.REQUIRED)),
                List.of(upstream(g + "-backend", c.port())),
                List.of(api("svc-authz", "svc.authz", "", "v1", active("v1"))),
                List.of(route(g, "all", "svc-authz", "v1", "/", to(g + "-backend", 100))));
        publishOk(g, part);
        ManagedChannel ch = clients.channel("node-authz", g, "svc.authz");
        int before = c.calls.get();

        assertThatThrownBy(() -> XdsClients.call(ch, "test.Echo/Who"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
                                e.getStatus().getCode())
                        .as("denied by extauthz-server: %s", e.getStatus())
                        .isIn(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED));
        assertThat(c.calls.get()).as("the backend never sees a denied call").isEqualTo(before);
        // the decision event is recorded by the server after it answers: the client may see the answer first
        await().atMost(Duration.ofSeconds(10))
                .untilAsserted(() -> assertThat(decisions).anySatisfy(d -> {
                    assertThat(d.path()).isEqualTo("/test.Echo/Who");
                    assertThat(d.decision()).isEqualTo("deny");
                    assertThat(d.status()).isEqualTo(401);
                }));
    }

    /**
     * Review IC-01: a proxyless client without ext_authz support (here grpc-java without
     * GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT) meets {@code proxyless_authz: required}: it NACKs the listener, /fleet
     * shows that NACK, and the call fails closed, before any backend. grpc-java fails the call UNAVAILABLE at once
     * rather than at its deadline (grpc-js instead waits for its deadline: docs/proxyless-clients.md).
     */
    @Test
    void requiredExtAuthz_onAClientWithoutIt_isAnLdsNackInTheFleet_andTheCallFailsClosed() {
        String g = "noauthz";
        publishOk(
                g,
                new GatewayConfig(
                        List.of(group(g, GatewayGroup.ProxylessAuthz.REQUIRED)),
                        List.of(upstream(g + "-backend", a.port())),
                        List.of(api("svc-noauthz", "svc.noauthz", "", "v1", active("v1"))),
                        List.of(route(g, "all", "svc-noauthz", "v1", "/", to(g + "-backend", 100)))));
        int before = a.calls.get();
        System.clearProperty(FLAG);
        try {
            ManagedChannel ch = clients.channel("node-noauthz", g, "svc.noauthz");
            ch.getState(true);
            await().atMost(Duration.ofSeconds(15)).until(() -> core.fleet()
                    .node("node-noauthz")
                    .flatMap(NodeStatus::lastNack)
                    .isPresent());
            NodeStatus.Nack nack =
                    core.fleet().node("node-noauthz").orElseThrow().lastNack().orElseThrow();
            assertThat(nack.typeUrl()).endsWith("envoy.config.listener.v3.Listener");
            assertThat(nack.error()).contains("envoy.filters.http.ext_authz").contains("required but unsupported");
            assertThatThrownBy(() -> XdsClients.call(ch, "test.Echo/Who", 10))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
                                    e.getStatus().getCode())
                            .as("%s", e.getStatus())
                            .isEqualTo(Status.Code.UNAVAILABLE));
            assertThat(a.calls.get())
                    .as("no call reaches a backend unauthorized")
                    .isEqualTo(before);
        } finally {
            System.setProperty(FLAG, "true");
        }
    }

    /**
     * Failing fast instead of hanging (IC-01): a client that cannot run ext_authz, identified by its node's
     * {@code user_agent_name}, gets listeners it can run whose every call aborts PERMISSION_DENIED through the fault
     * filter (FailFastListeners), instead of a listener it NACKs and then waits on (grpc-js: until each call's
     * deadline). The client is grpc-java's own xDS client without the ext_authz flag, its node's user agent rewritten
     * on the wire to grpc-js's ("gRPC Node Pure JS", grpc/grpc-node packages/grpc-js-xds/src/xds-client.ts): every
     * other byte of the exchange is grpc-java's. The capable client (grpc-java with the flag) in the same group still
     * gets the ext_authz listener and its call is checked; in a group without required authz the posing client still
     * reaches its backend.
     */
    @Test
    void requiredExtAuthz_clientThatCannotRunIt_failsFastPermissionDenied_capableClientIsStillChecked()
            throws Exception {
        String g = "failfast";
        publishOk(
                g,
                new GatewayConfig(
                        List.of(group(g, GatewayGroup.ProxylessAuthz.REQUIRED)),
                        List.of(upstream(g + "-backend", a.port())),
                        List.of(api("svc-failfast", "svc.failfast", "", "v1", active("v1"))),
                        List.of(route(g, "all", "svc-failfast", "v1", "/", to(g + "-backend", 100)))));
        String open = "failfast-off";
        publishOk(
                open,
                single(
                        open,
                        List.of(upstream(open + "-backend", b.port())),
                        api("svc-failfast-off", "svc.failfast-off", "", "v1", active("v1")),
                        route(open, "all", "svc-failfast-off", "v1", "/", to(open + "-backend", 100))));
        int before = a.calls.get();
        System.clearProperty(FLAG);
        try (UserAgentRewritingProxy asGrpcJs =
                        new UserAgentRewritingProxy(core.adsPort(), "gRPC Node Pure JS", "1.14.1");
                XdsClients viaProxy = new XdsClients(asGrpcJs.port())) {
            ManagedChannel ch = viaProxy.channel("node-failfast-js", g, "svc.failfast");
            int deadlineSeconds = 20;
            long started = System.nanoTime();
            assertThatThrownBy(() -> XdsClients.call(ch, "test.Echo/Who", deadlineSeconds))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        // not DEADLINE_EXCEEDED: the call ended on the controller's answer, not on its deadline
                        assertThat(e.getStatus().getCode())
                                .as("%s", e.getStatus())
                                .isEqualTo(Status.Code.PERMISSION_DENIED);
                        assertThat(e.getStatus().getDescription()).contains("fault injection");
                    });
            System.out.printf(
                    "client without ext_authz: PERMISSION_DENIED after %d ms (deadline %d s)%n",
                    (System.nanoTime() - started) / 1_000_000, deadlineSeconds);
            NodeStatus node = core.fleet().node("node-failfast-js").orElseThrow();
            assertThat(node.userAgent()).contains("gRPC Node Pure JS");
            assertThat(node.lastNack())
                    .as("served listeners it can run: no NACK")
                    .isEmpty();
            assertThat(a.calls.get())
                    .as("no call reaches a backend unauthorized")
                    .isEqualTo(before);

            ManagedChannel offGroup = viaProxy.channel("node-failfast-js-off", open, "svc.failfast-off");
            assertThat(XdsClients.call(offGroup, "test.Echo/Who")).isEqualTo("B");
        } finally {
            System.setProperty(FLAG, "true");
        }

        ManagedChannel capable = clients.channel("node-failfast-java", g, "svc.failfast");
        assertThatThrownBy(() -> XdsClients.call(capable, "test.Echo/Capable"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(
                                e.getStatus().getCode())
                        .as("denied by extauthz-server: %s", e.getStatus())
                        .isIn(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED));
        // recorded after the answer (above): awaited, not read at once
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(decisions)
                .as("the capable client's call went through the Check")
                .anySatisfy(d -> assertThat(d.path()).isEqualTo("/test.Echo/Capable")));
        assertThat(a.calls.get()).isEqualTo(before);
    }

    private static double responses(String type) {
        return meters.find("meshguard_xds_responses_total").tag("type", type).counters().stream()
                .mapToDouble(x -> x.count())
                .sum();
    }
}
