package io.meshguard.contract.zone;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.contract.zone.v1.ZoneSyncGrpc;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every part of the zone stream's records survives the protobuf wire, and the names on the wire are the .proto's. */
class ZoneCodecTest {

    @Test
    void everyDownPart_roundTrips() {
        Instant t = Instant.parse("2026-11-23T12:00:00.123456789Z");
        for (ZoneDown down : new ZoneDown[] {
            ZoneDown.of(new ZoneDown.GroupRevision("g", 4, "{\"routes\":[]}", "alice", "publish", t)),
            ZoneDown.of(new ZoneDown.Withdrawal("g", "cluster left")),
            ZoneDown.of(new ZoneDown.Credential("secret", t)),
            ZoneDown.of(new ZoneDown.EchoReceived(9)),
            ZoneDown.of(new ZoneDown.SubscriptionState(3, "{\"version\":3}"))
        }) {
            assertThat(ZoneCodec.fromProto(ZoneCodec.toProto(down))).isEqualTo(down);
        }
    }

    @Test
    void hello_keepsWhichCredentialIsPresented_andTheHeldRevisions() {
        ZoneUp token = ZoneUp.of(
                new ZoneUp.Hello("seoul", Optional.of("tok"), Optional.empty(), Map.of("g", 3L), "zone/1", "zone-0"));
        ZoneUp credential =
                ZoneUp.of(new ZoneUp.Hello("seoul", Optional.empty(), Optional.of("cred"), Map.of(), "zone/1", ""));

        assertThat(ZoneCodec.fromProto(ZoneCodec.toProto(token))).isEqualTo(token);
        assertThat(ZoneCodec.fromProto(ZoneCodec.toProto(credential))).isEqualTo(credential);
    }

    @Test
    void method_isTheGeneratedOne() {
        assertThat(ZoneCodec.follow(1024).getFullMethodName())
                .isEqualTo(ZoneWire.SERVICE + "/" + ZoneWire.METHOD)
                .isEqualTo(ZoneSyncGrpc.getFollowMethod().getFullMethodName());
    }
}
