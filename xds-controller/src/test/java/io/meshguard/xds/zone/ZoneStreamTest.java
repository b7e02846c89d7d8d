package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshguard.contract.zone.Echo;
import io.meshguard.contract.zone.NodeReport;
import io.meshguard.contract.zone.ZoneCodec;
import io.meshguard.contract.zone.ZoneDown;
import io.meshguard.contract.zone.ZoneUp;
import io.meshguard.contract.zone.v1.ZoneProto;
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
        ZoneUp up = ZoneUp.of(new Echo(
                7,
                Map.of("seoul-gw", 41L),
                Map.of(),
                List.of(new NodeReport(
                        "envoy-1",
                        "seoul-gw",
                        true,
                        "envoy/1.36.2",
                        Optional.of(40L),
                        Optional.of(41L),
                        Optional.empty(),
                        Instant.parse("2026-11-23T12:00:00Z")))));

        ZoneUp back = ZoneStream.FOLLOW.parseRequest(ZoneStream.FOLLOW.streamRequest(up));

        assertThat(back).isEqualTo(up);
        assertThat(back.echo().orElseThrow().nodes().getFirst().drifted()).isTrue();
    }

    @Test
    void messageFromANewerPeer_withFieldsThisOneLacks_isStillRead() {
        ZoneProto.ZoneDown known = ZoneCodec.toProto(
                ZoneDown.of(new ZoneDown.GroupRevision("g", 3, "{}", "a", "r", Instant.parse("2026-11-23T12:00:00Z"))));
        // a field 99 on the revision ("signature") and a field 98 on the envelope ("priority") this reader lacks
        ZoneProto.ZoneDown newer = known.toBuilder()
                .setRevision(known.getRevision().toBuilder()
                        .setUnknownFields(UnknownFieldSet.newBuilder()
                                .addField(
                                        99,
                                        UnknownFieldSet.Field.newBuilder()
                                                .addLengthDelimited(ByteString.copyFromUtf8("future"))
                                                .build())
                                .build()))
                .setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(
                                98,
                                UnknownFieldSet.Field.newBuilder().addVarint(2).build())
                        .build())
                .build();

        ZoneDown down = ZoneStream.FOLLOW.parseResponse(newer.toByteString().newInput());

        assertThat(down.revision())
                .hasValueSatisfying(r -> assertThat(r.revision()).isEqualTo(3));
        assertThat(down.withdrawal()).isEmpty();
    }

    @Test
    void malformedMessage_isRefusedAsInvalidArgument_namingTheType() {
        // a JSON message, as a zone of the previous wire would send it, is not a protobuf ZoneUp
        byte[] json = "{\"version\": 1, \"hello\": {\"cluster\": \"c\"}}".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> ZoneStream.FOLLOW.parseRequest(new ByteArrayInputStream(json)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("not a ZoneUp: ");
                });
    }

    @Test
    void messageOverTheSizeLimit_isRefused() {
        ZoneProto.ZoneDown big = ZoneCodec.toProto(
                ZoneDown.of(new ZoneDown.GroupRevision("g", 1, "x".repeat(1024), "a", "r", Instant.EPOCH)));

        assertThatThrownBy(() ->
                        ZoneCodec.follow(512).parseResponse(big.toByteString().newInput()))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }
}
