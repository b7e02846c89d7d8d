package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.contract.zone.Echo;
import io.meshguard.contract.zone.NodeReport;
import io.meshguard.contract.zone.ZoneDown;
import io.meshguard.contract.zone.ZoneUp;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The zone stream's wire form: what one side writes the other reads back, and a newer peer's fields are ignored. */
class ZoneStreamTest {

    @Test
    void echoWithNodes_roundTripsThroughTheMarshaller() throws Exception {
        ZoneUp up = ZoneUp.of(new Echo(7, Map.of("seoul-gw", 41L), Map.of(), List.of(new NodeReport("envoy-1",
                "seoul-gw", true, "envoy/1.36.2", Optional.of(40L), Optional.of(41L), Optional.empty(),
                Instant.parse("2026-11-23T12:00:00Z")))));

        ZoneUp back = ZoneStream.FOLLOW.parseRequest(ZoneStream.FOLLOW.streamRequest(up));

        assertThat(back).isEqualTo(up);
        assertThat(back.echo().orElseThrow().nodes().getFirst().drifted()).isTrue();
    }

    @Test
    void messageFromANewerPeer_withFieldsThisOneLacks_isStillRead() {
        String json = """
                {"version": 1, "revision": {"group": "g", "revision": 3, "config": "{}", "actor": "a",
                 "reason": "r", "created_at": "2026-11-23T12:00:00Z", "signature": "future"},
                 "priority": "high"}""";

        ZoneDown down = ZoneStream.FOLLOW.parseResponse(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));

        assertThat(down.revision()).hasValueSatisfying(r -> assertThat(r.revision()).isEqualTo(3));
        assertThat(down.withdrawal()).isEmpty();
    }
}
