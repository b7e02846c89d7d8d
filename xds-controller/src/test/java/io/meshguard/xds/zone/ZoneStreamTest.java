package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The zone stream's wire form as central and the zone read it: what one side writes the other reads back, a newer
 * peer's fields are ignored (normal protobuf evolution, zone.proto), and what is not a message of the stream is
 * refused.
 */
class ZoneStreamTest {

    private static ZoneProto.ZoneDown revision(String config) {
        return ZoneWire.down()
                .setRevision(ZoneProto.GroupRevision.newBuilder()
                        .setGroup("g")
                        .setRevision(3)
                        .setConfig(config)
                        .setActor("a")
                        .setReason("r")
                        .setCreatedAt(ZoneWire.timestamp(Instant.parse("2026-11-23T12:00:00Z"))))
                .build();
    }

    @Test
    void echoWithNodes_roundTripsThroughTheMarshaller_andADriftedNodeIsSeen() {
        ZoneProto.ZoneUp up = ZoneWire.up()
                .setEcho(ZoneProto.Echo.newBuilder()
                        .setSequence(7)
                        .putApplied("seoul-gw", 41L)
                        .addNodes(ZoneProto.NodeReport.newBuilder()
                                .setNodeId("envoy-1")
                                .setGroup("seoul-gw")
                                .setConnected(true)
                                .setClient("envoy/1.36.2")
                                .setRevision(40L)
                                .setExpected(41L)
                                .setLastSeen(ZoneWire.timestamp(Instant.parse("2026-11-23T12:00:00Z")))))
                .build();

        ZoneProto.ZoneUp back = ZoneStream.FOLLOW.parseRequest(ZoneStream.FOLLOW.streamRequest(up));

        assertThat(back).isEqualTo(up);
        ZoneProto.NodeReport node = back.getEcho().getNodes(0);
        assertThat(NodeReports.drifted(node)).isTrue();
        assertThat(node.hasNack()).isFalse();
        assertThat(NodeReports.drifted(node.toBuilder().setRevision(41L).build()))
                .isFalse();
        assertThat(NodeReports.drifted(node.toBuilder().clearRevision().build()))
                .as("a node whose versions match no revision the zone served")
                .isTrue();
        assertThat(NodeReports.drifted(node.toBuilder().clearExpected().build()))
                .as("a node of a group the zone serves nothing")
                .isFalse();
    }

    @Test
    void messageFromANewerPeer_withFieldsThisOneLacks_isStillRead() {
        ZoneProto.ZoneDown known = revision("{}");
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

        ZoneProto.ZoneDown down =
                ZoneStream.FOLLOW.parseResponse(newer.toByteString().newInput());

        assertThat(down.getPartCase()).isEqualTo(ZoneProto.ZoneDown.PartCase.REVISION);
        assertThat(down.getRevision().getRevision()).isEqualTo(3);
        assertThat(down.getRevision().toBuilder()
                        .setUnknownFields(UnknownFieldSet.getDefaultInstance())
                        .build())
                .isEqualTo(known.getRevision());
    }

    @Test
    void partFromANewerPeer_isReadAsNoPart() {
        // a oneof member 40 this reader lacks: the envelope parses, its part is unknown, so the reader acts on nothing
        ZoneProto.ZoneDown newer = ZoneWire.down()
                .setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(
                                40,
                                UnknownFieldSet.Field.newBuilder()
                                        .addLengthDelimited(ByteString.copyFromUtf8("x"))
                                        .build())
                        .build())
                .build();

        ZoneProto.ZoneDown down =
                ZoneStream.FOLLOW.parseResponse(newer.toByteString().newInput());

        assertThat(down.getVersion()).isEqualTo(ZoneWire.VERSION);
        assertThat(down.getPartCase()).isEqualTo(ZoneProto.ZoneDown.PartCase.PART_NOT_SET);
    }

    @Test
    void malformedMessage_isRefusedAsInvalidArgument_namingTheType() {
        // a JSON message, as a zone of the wire before protobuf would send it, is not a protobuf ZoneUp
        byte[] json = "{\"version\": 1, \"hello\": {\"cluster\": \"c\"}}".getBytes(StandardCharsets.UTF_8);

        assertThatThrownBy(() -> ZoneStream.FOLLOW.parseRequest(new ByteArrayInputStream(json)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("not a ZoneUp: ");
                });
    }

    @Test
    void invalidTag_isRefusedAsInvalidArgument() {
        // field number 0 does not exist in protobuf: bytes no peer's message can hold (a known field sent with another
        // wire type, by contrast, is kept as an unknown field, as protobuf specifies)
        byte[] invalid = {0x08, 0x01, 0x00, 0x01};

        assertThatThrownBy(() -> ZoneStream.FOLLOW.parseResponse(new ByteArrayInputStream(invalid)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("not a ZoneDown: ");
                });
    }

    @Test
    void messageOverTheSizeLimit_isRefused() {
        ZoneProto.ZoneDown big = revision("x".repeat(1024));

        assertThatThrownBy(() ->
                        ZoneWire.follow(512).parseResponse(big.toByteString().newInput()))
                .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void nodeReports_keptAsTheColumnsJson_readBack_andRowsOfTheReleaseBeforeAreRead() throws Exception {
        ZoneProto.NodeReport node = ZoneProto.NodeReport.newBuilder()
                .setNodeId("envoy-1")
                .setGroup("seoul-gw")
                .setConnected(true)
                .setClient("envoy/1.36.2")
                .setRevision(40L)
                .setExpected(41L)
                .setNack("cds 7: bad cluster")
                .setLastSeen(ZoneWire.timestamp(Instant.parse("2026-11-23T12:00:00.5Z")))
                .build();

        assertThat(NodeReports.fromJson(NodeReports.json(List.of(node)))).containsExactly(node);
        // the column as the release before wrote it (Jackson over the NodeReport record): same names, nulls, numbers
        String before = "[{\"node_id\":\"envoy-2\",\"group\":\"seoul-gw\",\"connected\":false,\"client\":\"gRPC Java\","
                + "\"revision\":40,\"expected\":null,\"nack\":null,\"last_seen\":\"2026-11-23T12:00:00Z\"}]";
        ZoneProto.NodeReport read = NodeReports.fromJson(before).getFirst();
        assertThat(read.getNodeId()).isEqualTo("envoy-2");
        assertThat(read.getRevision()).isEqualTo(40L);
        assertThat(read.hasExpected()).isFalse();
        assertThat(read.hasNack()).isFalse();
        assertThat(NodeReports.lastSeen(read)).isEqualTo(Instant.parse("2026-11-23T12:00:00Z"));
    }
}
