package io.meshguard.xds.zone;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * What central does with the node reports a zone echoes ({@code meshguard.zone.v1.NodeReport}): whether a node
 * drifted, and the JSON the {@code zone_stream.nodes} column keeps them in. The column's field names are the proto's
 * (node_id, last_seen, ...), the names rows written before the messages were generated also carry, so either release
 * reads the other's rows.
 */
final class NodeReports {
    private static final JsonFormat.Printer PRINTER =
            JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

    private NodeReports() {}

    /** Whether the node runs something other than what its zone serves its group. */
    static boolean drifted(ZoneProto.NodeReport n) {
        return n.hasExpected() && (!n.hasRevision() || n.getRevision() != n.getExpected());
    }

    static Instant lastSeen(ZoneProto.NodeReport n) {
        return ZoneWire.instant(n.getLastSeen());
    }

    /** The reports as the {@code zone_stream.nodes} column keeps them: a JSON array of NodeReport objects. */
    static String json(List<ZoneProto.NodeReport> nodes) {
        StringJoiner out = new StringJoiner(",", "[", "]");
        for (ZoneProto.NodeReport n : nodes) {
            try {
                out.add(PRINTER.print(n));
            } catch (InvalidProtocolBufferException e) {
                // a NodeReport holds no Any: printing cannot fail
                throw new IllegalStateException(e);
            }
        }
        return out.toString();
    }

    /**
     * @throws JsonProcessingException when the column is not a JSON array of node reports
     */
    static List<ZoneProto.NodeReport> fromJson(String json) throws JsonProcessingException {
        JsonNode array = ZoneStream.JSON.readTree(json);
        List<ZoneProto.NodeReport> out = new ArrayList<>();
        if (array == null || !array.isArray()) {
            return out;
        }
        for (JsonNode n : array) {
            ZoneProto.NodeReport.Builder b = ZoneProto.NodeReport.newBuilder();
            try {
                PARSER.merge(n.toString(), b);
            } catch (InvalidProtocolBufferException e) {
                throw new JsonProcessingException("not a node report: " + e.getMessage()) {};
            }
            out.add(b.build());
        }
        return out;
    }
}
