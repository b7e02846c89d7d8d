package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.route.v3.VirtualHostDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayYaml;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The xDS core under a randomized load that can find lock-order deadlocks and NACK storms: emulated Envoy gateways
 * (ADS and VHDS, validating as Envoy does) beside bare clients that ACK every response the moment it arrives (their
 * ADS and VHDS ACKs race each other and the settling of removed clusters), nodes that refuse every virtual host or
 * every route table, reconnects, and publishes that rename upstreams (a cluster dropped in two steps), change weights
 * and roll back. At the end: no thread deadlocked, the core's threads come round, every accepting node on the last
 * revision, and each refusing node sent a bounded number of responses. The seed is printed and in every failure;
 * {@code -Dmeshguard.soak.seed=…} replays it, {@code -Dmeshguard.soak.seconds=…} runs longer, {@code -Dmeshguard.soak.runs=…} runs it that many times in a row (seed, seed + 1, …).
 */
@IntegrationTest
class XdsCoreSoakTest {
    private static final String GROUP = "local";
    private static final String TABLE = "http-8080";
    private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    private static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
    private static final String RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

    @Test
    void racingAcksRemovalsRollbacksAndRefusingNodes_noDeadlock_everyNodeOnTheLastRevision_noNackStorm()
            throws Exception {
        long seed = Long.getLong("meshguard.soak.seed", System.nanoTime());
        int seconds = Integer.getInteger("meshguard.soak.seconds", 15);
        int runs = Integer.getInteger("meshguard.soak.runs", 1);
        for (int run = 0; run < runs; run++) {
            System.out.println(
                    "XdsCoreSoakTest run " + (run + 1) + "/" + runs + " seed=" + (seed + run) + " seconds=" + seconds);
            new Soak(seed + run, seconds, 12, 40, 4).run();
        }
    }

    /** One soak: its seed, how long it changes things, and how many nodes of each kind. */
    static final class Soak {
        private final long seed;
        private final int seconds;
        private final int emulated;
        private final int racing;
        private final int refusing;
        private final String why;

        Soak(long seed, int seconds, int emulated, int racing, int refusing) {
            this.seed = seed;
            this.seconds = seconds;
            this.emulated = emulated;
            this.racing = racing;
            this.refusing = refusing;
            this.why = "seed " + seed + " (replay: -Dmeshguard.soak.seed=" + seed + ")";
        }

        void run() throws Exception {
            SplittableRandom random = new SplittableRandom(seed);
            String sample;
            try (InputStream in = XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
                sample = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            String renamed = sample.replace("  - name: payments-v1\n", "  - name: payments-v1-blue\n")
                    .replace("{upstream: payments-v1, weight: 100}", "{upstream: payments-v1-blue, weight: 100}");
            assertThat(renamed).isNotEqualTo(sample);
            List<String> variants = new ArrayList<>();
            for (String base : List.of(sample, renamed)) {
                variants.add(base);
                variants.add(base.replace(
                        "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                        "weight: 70}, {upstream: payments-v2-canary, weight: 30}"));
            }
            XdsCore core = LoopbackCores.inMemory(
                    RolloutSpans.disabled(), Optional.of(new XdsCore.Vhds("meshguard-xds", Duration.ofSeconds(2))));
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", core.adsPort())
                    .usePlaintext()
                    .build();
            List<AdsSubscription> gateways = new ArrayList<>();
            List<RawNode> raw = new ArrayList<>();
            try {
                List<Long> revisions = new ArrayList<>();
                java.util.Map<Long, Integer> variantOf = new java.util.HashMap<>();
                int current = 0;
                revisions.add(publish(core, variants.get(0)));
                variantOf.put(revisions.get(0), 0);
                for (int i = 0; i < emulated; i++) {
                    gateways.add(AdsSubscription.connect(
                            "127.0.0.1", core.adsPort(), new EnvoyNode("soak-envoy-" + i, GROUP, java.util.Map.of())));
                }
                for (int i = 0; i < racing; i++) {
                    raw.add(new RawNode(channel, "soak-racing-" + i, Refuses.NOTHING));
                }
                for (int i = 0; i < refusing; i++) {
                    raw.add(new RawNode(
                            channel, "soak-refusing-" + i, i % 2 == 0 ? Refuses.VIRTUAL_HOSTS : Refuses.ROUTE_TABLES));
                }
                int changes = 0;
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
                while (System.nanoTime() < end) {
                    int op = random.nextInt(10);
                    if (op < 6) {
                        // every publish changes something: a rename drops a cluster in two steps
                        int next = (current + 1 + random.nextInt(variants.size() - 1)) % variants.size();
                        long id = publish(core, variants.get(next));
                        revisions.add(id);
                        variantOf.put(id, next);
                        current = next;
                        changes++;
                    } else if (op < 8) {
                        int now = current;
                        List<Long> other = revisions.stream()
                                .filter(r -> variantOf.get(r) != now)
                                .toList();
                        if (other.isEmpty()) {
                            continue;
                        }
                        long to = other.get(random.nextInt(other.size()));
                        Publisher.Result r = bounded(() -> core.publisher().rollback(to, "soak", "soak rollback"));
                        assertThat(r.published()).as(why + ": " + r.problems()).isTrue();
                        long id = r.revision().orElseThrow().id();
                        revisions.add(id);
                        current = variantOf.get(to);
                        variantOf.put(id, current);
                        changes++;
                    } else {
                        int which = random.nextInt(raw.size());
                        RawNode old = raw.get(which);
                        old.close();
                        raw.set(which, new RawNode(channel, old.id, old.refuses));
                    }
                    Thread.sleep(random.nextInt(50, 400));
                }
                long last = publish(
                        core,
                        sample.replace(
                                "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                                "weight: 80}, {upstream: payments-v2-canary, weight: 20}"));
                changes++;

                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                List<String> behind = behind(core, gateways, raw, last);
                while (!behind.isEmpty()
                        && System.nanoTime() < deadline
                        && deadlocked().isEmpty()) {
                    Thread.sleep(200);
                    behind = behind(core, gateways, raw, last);
                }
                assertThat(deadlocked()).as(why + ": deadlocked threads").isEmpty();
                core.watchdog().check();
                core.watchdog().check();
                assertThat(core.watchdog().healthy())
                        .as(why + ": the watchdog finds the core stuck")
                        .isTrue();
                assertThat(behind)
                        .as(why + ": nodes not on the last revision " + last + " after " + changes + " changes")
                        .isEmpty();
                // a refusing node is sent each change once, and what it refused again after 1, 3, 7, 15 … s
                int bound = changes + 2 * (int) (Math.log(seconds + 60) / Math.log(2)) + 10;
                for (RawNode n : raw) {
                    if (n.refuses == Refuses.VIRTUAL_HOSTS) {
                        assertThat(n.vhdsResponses.get())
                                .as(why + ": VHDS responses to " + n.id + " refusing every one (" + changes
                                        + " changes)")
                                .isLessThanOrEqualTo(bound);
                    } else if (n.refuses == Refuses.ROUTE_TABLES) {
                        assertThat(n.routeResponses.get())
                                .as(why + ": RDS responses to " + n.id + " refusing every one")
                                .isLessThanOrEqualTo(bound);
                    }
                }
            } finally {
                raw.forEach(RawNode::close);
                gateways.forEach(AdsSubscription::close);
                channel.shutdownNow();
                core.close();
            }
        }

        private long publish(XdsCore core, String yaml) throws Exception {
            Publisher.Result r =
                    bounded(() -> core.publisher().publish(GatewayYaml.read("soak.yaml", yaml), "soak", "soak"));
            assertThat(r.published()).as(why + ": " + r.problems()).isTrue();
            return r.revision().orElseThrow().id();
        }

        /**
         * A publish or rollback within 30 s: one that does not return is the frozen delivery this soak looks for, so
         * it fails with the deadlocked threads (if any) and the seed instead of hanging the build.
         */
        private Publisher.Result bounded(java.util.concurrent.Callable<Publisher.Result> change) throws Exception {
            java.util.concurrent.FutureTask<Publisher.Result> task = new java.util.concurrent.FutureTask<>(change);
            Thread.ofPlatform().daemon().name("soak-publish").start(task);
            try {
                return task.get(30, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError(
                        why + ": a publish did not return in 30 s; deadlocked threads: " + deadlocked());
            }
        }

        private static List<String> behind(XdsCore core, List<AdsSubscription> gateways, List<RawNode> raw, long last) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < gateways.size(); i++) {
                ids.add("soak-envoy-" + i);
            }
            raw.stream().filter(n -> n.refuses == Refuses.NOTHING).forEach(n -> ids.add(n.id));
            List<String> out = new ArrayList<>();
            for (String id : ids) {
                Optional<Long> rev = core.fleet().node(id).flatMap(NodeStatus::revision);
                if (!rev.equals(Optional.of(last))) {
                    out.add(id + "@" + rev.map(String::valueOf).orElse("none"));
                }
            }
            return out;
        }
    }

    /** Threads of this JVM in a deadlock, with where each waits. */
    static List<String> deadlocked() {
        long[] ids = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
        if (ids == null) {
            return List.of();
        }
        return Arrays.stream(ManagementFactory.getThreadMXBean().getThreadInfo(ids, true, true))
                .map(ThreadInfo::toString)
                .collect(Collectors.toList());
    }

    enum Refuses {
        NOTHING,
        VIRTUAL_HOSTS,
        ROUTE_TABLES
    }

    /**
     * A gateway as bare as it gets: an ADS stream (clusters, listeners, its route table) and a VHDS stream, each
     * answered on the gRPC thread the moment a response arrives, ACK or (for what it refuses) NACK.
     */
    static final class RawNode {
        final String id;
        final Refuses refuses;
        final AtomicInteger vhdsResponses = new AtomicInteger();
        final AtomicInteger routeResponses = new AtomicInteger();
        private final StreamObserver<DiscoveryRequest> ads;
        private final StreamObserver<DeltaDiscoveryRequest> vhds;

        RawNode(ManagedChannel channel, String id, Refuses refuses) {
            this.id = id;
            this.refuses = refuses;
            Node node = Node.newBuilder()
                    .setId(id)
                    .setCluster(GROUP)
                    .setUserAgentName("envoy")
                    .build();
            this.ads = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(new StreamObserver<>() {
                        @Override
                        public void onNext(DiscoveryResponse r) {
                            DiscoveryRequest.Builder answer = DiscoveryRequest.newBuilder()
                                    .setTypeUrl(r.getTypeUrl())
                                    .setResponseNonce(r.getNonce())
                                    .addAllResourceNames(r.getTypeUrl().equals(RDS) ? List.of(TABLE) : List.of());
                            if (r.getTypeUrl().equals(RDS)) {
                                routeResponses.incrementAndGet();
                            }
                            if (r.getTypeUrl().equals(RDS) && refuses == Refuses.ROUTE_TABLES) {
                                answer.setErrorDetail(com.google.rpc.Status.newBuilder()
                                        .setCode(13)
                                        .setMessage("soak: route table refused"));
                            } else {
                                answer.setVersionInfo(r.getVersionInfo());
                            }
                            sendAds(answer.build());
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    });
            sendAds(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
            sendAds(DiscoveryRequest.newBuilder().setTypeUrl(LDS).build());
            sendAds(DiscoveryRequest.newBuilder()
                    .setTypeUrl(RDS)
                    .addResourceNames(TABLE)
                    .build());
            this.vhds = VirtualHostDiscoveryServiceGrpc.newStub(channel).deltaVirtualHosts(new StreamObserver<>() {
                @Override
                public void onNext(DeltaDiscoveryResponse r) {
                    vhdsResponses.incrementAndGet();
                    DeltaDiscoveryRequest.Builder answer = DeltaDiscoveryRequest.newBuilder()
                            .setTypeUrl(VirtualHostDiscovery.TYPE_URL)
                            .setResponseNonce(r.getNonce());
                    if (refuses == Refuses.VIRTUAL_HOSTS) {
                        answer.setErrorDetail(com.google.rpc.Status.newBuilder()
                                .setCode(13)
                                .setMessage("soak: virtual host refused"));
                    }
                    sendVhds(answer.build());
                }

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            });
            sendVhds(DeltaDiscoveryRequest.newBuilder()
                    .setNode(node)
                    .setTypeUrl(VirtualHostDiscovery.TYPE_URL)
                    .build());
        }

        private synchronized void sendAds(DiscoveryRequest r) {
            try {
                ads.onNext(r);
            } catch (IllegalStateException closed) {
                // the stream ended (closed by the soak): nothing more to say
            }
        }

        private synchronized void sendVhds(DeltaDiscoveryRequest r) {
            try {
                vhds.onNext(r);
            } catch (IllegalStateException closed) {
                // as above
            }
        }

        synchronized void close() {
            try {
                ads.onCompleted();
                vhds.onCompleted();
            } catch (IllegalStateException alreadyClosed) {
                // ended before
            }
        }
    }
}
