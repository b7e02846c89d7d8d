package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.model.ConfigJson;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Published class "one malformed revision, plan or tenant object stopping other groups' applies" (fault isolation):
 * a control plane that reads every group's objects on one stream must not be stopped by the one it cannot read. A
 * zone controller that receives a revision it cannot read keeps the stream to central open, reports that group
 * refused, and applies every other group's revision that follows on the same stream.
 */
@IntegrationTest
class ZoneFaultIsolationTest {
    @TempDir
    Path tmp;

    /** A central that speaks the zone stream's messages as they are on the wire, and records what the zone says. */
    static final class RawCentral implements AutoCloseable {
        final AtomicInteger hellos = new AtomicInteger();
        final Map<String, String> refused = new ConcurrentHashMap<>();
        final Server server;

        RawCentral(ZoneProto.GroupRevision... revisions) throws Exception {
            ServerServiceDefinition service = ServerServiceDefinition.builder(ZoneStream.SERVICE)
                    .addMethod(
                            ZoneStream.FOLLOW,
                            ServerCalls.asyncBidiStreamingCall(down -> new StreamObserver<ZoneProto.ZoneUp>() {
                                @Override
                                public void onNext(ZoneProto.ZoneUp up) {
                                    if (up.hasHello()) {
                                        hellos.incrementAndGet();
                                        for (ZoneProto.GroupRevision r : revisions) {
                                            down.onNext(ZoneProto.ZoneDown.newBuilder()
                                                    .setVersion(ZoneWire.VERSION)
                                                    .setRevision(r)
                                                    .build());
                                        }
                                    } else if (up.hasEcho()) {
                                        refused.putAll(up.getEcho().getRefusedMap());
                                    }
                                }

                                @Override
                                public void onError(Throwable t) {}

                                @Override
                                public void onCompleted() {
                                    down.onCompleted();
                                }
                            }))
                    .build();
            server = LoopbackGrpc.serve(service);
        }

        String address() {
            return "127.0.0.1:" + server.getPort();
        }

        @Override
        public void close() {
            server.shutdownNow();
        }
    }

    static ZoneProto.GroupRevision revision(String group, long id, String config) {
        return ZoneProto.GroupRevision.newBuilder()
                .setGroup(group)
                .setRevision(id)
                .setConfig(config)
                .setActor("central")
                .setReason("test")
                .setCreatedAt(Timestamp.newBuilder().setSeconds(1_790_000_000L))
                .build();
    }

    @Test
    void oneUnreadableRevision_isRefusedForItsGroupAlone_theOtherGroupsRevisionIsApplied_onTheSameStream()
            throws Exception {
        String good = ConfigJson.write(ZoneLoopbackTest.config("kr-good", "jp-other", false));
        try (RawCentral central = new RawCentral(
                        revision("kr-broken", 7, "{\"groups\": [{\"name\": "), revision("kr-good", 8, good));
                ZoneController zone = ZoneTestbed.started(ZoneSettings.loopback(
                        "fault-isolation",
                        central.address(),
                        Optional.empty(),
                        tmp.resolve("zone"),
                        Duration.ofMillis(200)))) {
            await().atMost(Duration.ofSeconds(20)).until(() -> zone.held().containsKey("kr-good"));
            assertThat(zone.held()).containsEntry("kr-good", 8L).doesNotContainKey("kr-broken");
            await().atMost(Duration.ofSeconds(20)).until(() -> central.refused.containsKey("kr-broken"));
            assertThat(central.refused.get("kr-broken")).contains("7");
            // the unreadable revision did not end the stream: one hello, no reconnect that would replay it forever
            assertThat(central.hellos.get()).isEqualTo(1);
        }
    }
}
