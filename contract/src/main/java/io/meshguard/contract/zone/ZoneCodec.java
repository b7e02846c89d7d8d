package io.meshguard.contract.zone;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Timestamp;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.contract.zone.v1.ZoneSyncGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.Optional;

/**
 * The zone stream's records as the messages of {@code meshguard/zone/v1/zone.proto}, and the stream's gRPC method
 * carrying them. The records stay what both ends program against (optional parts, instants); this class is the one
 * place that knows the wire.
 */
public final class ZoneCodec {
    private ZoneCodec() {}

    /**
     * {@code ZoneSync/Follow} from the generated service, marshalled through the records. A message that is not a
     * valid {@code ZoneUp}/{@code ZoneDown}, or larger than {@code maxMessageBytes}, fails with
     * {@code INVALID_ARGUMENT} naming the message type.
     */
    public static MethodDescriptor<ZoneUp, ZoneDown> follow(int maxMessageBytes) {
        return ZoneSyncGrpc.getFollowMethod().<ZoneUp, ZoneDown>toBuilder(
                        new Marshaller<ZoneUp>("ZoneUp", maxMessageBytes) {
                            @Override
                            ZoneProto.ZoneUp toProto(ZoneUp value) {
                                return ZoneCodec.toProto(value);
                            }

                            @Override
                            ZoneUp fromBytes(CodedInputStream in) throws IOException {
                                return fromProto(ZoneProto.ZoneUp.parseFrom(in));
                            }
                        },
                        new Marshaller<ZoneDown>("ZoneDown", maxMessageBytes) {
                            @Override
                            ZoneProto.ZoneDown toProto(ZoneDown value) {
                                return ZoneCodec.toProto(value);
                            }

                            @Override
                            ZoneDown fromBytes(CodedInputStream in) throws IOException {
                                return fromProto(ZoneProto.ZoneDown.parseFrom(in));
                            }
                        })
                .build();
    }

    private abstract static class Marshaller<T> implements MethodDescriptor.Marshaller<T> {
        private final String type;
        private final int maxMessageBytes;

        Marshaller(String type, int maxMessageBytes) {
            this.type = type;
            this.maxMessageBytes = maxMessageBytes;
        }

        abstract com.google.protobuf.Message toProto(T value);

        abstract T fromBytes(CodedInputStream in) throws IOException;

        @Override
        public InputStream stream(T value) {
            return toProto(value).toByteString().newInput();
        }

        @Override
        public T parse(InputStream stream) {
            try {
                CodedInputStream in = CodedInputStream.newInstance(stream);
                in.setSizeLimit(maxMessageBytes);
                return fromBytes(in);
            } catch (IOException | RuntimeException e) {
                // IOException covers InvalidProtocolBufferException (bad bytes, over the size limit); a runtime
                // exception is a well-formed message the records refuse (a hello without a cluster)
                throw Status.INVALID_ARGUMENT
                        .withDescription("not a " + type + ": " + e.getMessage())
                        .withCause(e)
                        .asRuntimeException();
            }
        }
    }

    public static ZoneProto.ZoneUp toProto(ZoneUp up) {
        ZoneProto.ZoneUp.Builder b = ZoneProto.ZoneUp.newBuilder().setVersion(up.version());
        up.hello().ifPresent(h -> b.setHello(toProto(h)));
        up.echo().ifPresent(e -> b.setEcho(toProto(e)));
        return b.build();
    }

    public static ZoneUp fromProto(ZoneProto.ZoneUp up) {
        return new ZoneUp(
                up.getVersion(),
                up.hasHello() ? Optional.of(fromProto(up.getHello())) : Optional.empty(),
                up.hasEcho() ? Optional.of(fromProto(up.getEcho())) : Optional.empty());
    }

    static ZoneProto.Hello toProto(ZoneUp.Hello h) {
        ZoneProto.Hello.Builder b = ZoneProto.Hello.newBuilder()
                .setCluster(h.cluster())
                .putAllHeld(h.held())
                .setZoneVersion(h.zoneVersion())
                .setReplica(h.replica());
        h.registrationToken().ifPresent(b::setRegistrationToken);
        h.credential().ifPresent(b::setCredential);
        return b.build();
    }

    static ZoneUp.Hello fromProto(ZoneProto.Hello h) {
        return new ZoneUp.Hello(
                h.getCluster(),
                h.hasRegistrationToken() ? Optional.of(h.getRegistrationToken()) : Optional.empty(),
                h.hasCredential() ? Optional.of(h.getCredential()) : Optional.empty(),
                h.getHeldMap(),
                h.getZoneVersion(),
                h.getReplica());
    }

    static ZoneProto.Echo toProto(Echo e) {
        ZoneProto.Echo.Builder b = ZoneProto.Echo.newBuilder()
                .setSequence(e.sequence())
                .putAllApplied(e.applied())
                .putAllRefused(e.refused());
        e.nodes().forEach(n -> b.addNodes(toProto(n)));
        return b.build();
    }

    static Echo fromProto(ZoneProto.Echo e) {
        return new Echo(
                e.getSequence(),
                e.getAppliedMap(),
                e.getRefusedMap(),
                e.getNodesList().stream().map(ZoneCodec::fromProto).toList());
    }

    static ZoneProto.NodeReport toProto(NodeReport n) {
        ZoneProto.NodeReport.Builder b = ZoneProto.NodeReport.newBuilder()
                .setNodeId(text(n.nodeId()))
                .setGroup(text(n.group()))
                .setConnected(n.connected())
                .setClient(text(n.client()));
        n.revision().ifPresent(b::setRevision);
        n.expected().ifPresent(b::setExpected);
        n.nack().ifPresent(b::setNack);
        if (n.lastSeen() != null) {
            b.setLastSeen(timestamp(n.lastSeen()));
        }
        return b.build();
    }

    static NodeReport fromProto(ZoneProto.NodeReport n) {
        return new NodeReport(
                n.getNodeId(),
                n.getGroup(),
                n.getConnected(),
                n.getClient(),
                n.hasRevision() ? Optional.of(n.getRevision()) : Optional.empty(),
                n.hasExpected() ? Optional.of(n.getExpected()) : Optional.empty(),
                n.hasNack() ? Optional.of(n.getNack()) : Optional.empty(),
                n.hasLastSeen() ? instant(n.getLastSeen()) : null);
    }

    public static ZoneProto.ZoneDown toProto(ZoneDown down) {
        ZoneProto.ZoneDown.Builder b = ZoneProto.ZoneDown.newBuilder().setVersion(down.version());
        down.revision().ifPresent(r -> {
            ZoneProto.GroupRevision.Builder g = ZoneProto.GroupRevision.newBuilder()
                    .setGroup(r.group())
                    .setRevision(r.revision())
                    .setConfig(r.config())
                    .setActor(text(r.actor()))
                    .setReason(text(r.reason()));
            if (r.createdAt() != null) {
                g.setCreatedAt(timestamp(r.createdAt()));
            }
            b.setRevision(g);
        });
        down.withdrawal()
                .ifPresent(w -> b.setWithdrawal(ZoneProto.Withdrawal.newBuilder()
                        .setGroup(text(w.group()))
                        .setReason(text(w.reason()))));
        down.credential().ifPresent(c -> {
            ZoneProto.Credential.Builder g = ZoneProto.Credential.newBuilder().setSecret(text(c.secret()));
            if (c.expiresAt() != null) {
                g.setExpiresAt(timestamp(c.expiresAt()));
            }
            b.setCredential(g);
        });
        down.echoReceived()
                .ifPresent(e ->
                        b.setEchoReceived(ZoneProto.EchoReceived.newBuilder().setSequence(e.sequence())));
        down.subscriptionState()
                .ifPresent(s -> b.setSubscriptionState(ZoneProto.SubscriptionState.newBuilder()
                        .setVersion(s.version())
                        .setSnapshot(s.snapshot())));
        return b.build();
    }

    public static ZoneDown fromProto(ZoneProto.ZoneDown down) {
        Optional<ZoneDown.GroupRevision> revision = Optional.empty();
        Optional<ZoneDown.Withdrawal> withdrawal = Optional.empty();
        Optional<ZoneDown.Credential> credential = Optional.empty();
        Optional<ZoneDown.EchoReceived> echo = Optional.empty();
        Optional<ZoneDown.SubscriptionState> state = Optional.empty();
        switch (down.getPartCase()) {
            case REVISION -> {
                ZoneProto.GroupRevision r = down.getRevision();
                revision = Optional.of(new ZoneDown.GroupRevision(
                        r.getGroup(),
                        r.getRevision(),
                        r.getConfig(),
                        r.getActor(),
                        r.getReason(),
                        r.hasCreatedAt() ? instant(r.getCreatedAt()) : null));
            }
            case WITHDRAWAL ->
                withdrawal = Optional.of(new ZoneDown.Withdrawal(
                        down.getWithdrawal().getGroup(), down.getWithdrawal().getReason()));
            case CREDENTIAL ->
                credential = Optional.of(new ZoneDown.Credential(
                        down.getCredential().getSecret(),
                        down.getCredential().hasExpiresAt()
                                ? instant(down.getCredential().getExpiresAt())
                                : null));
            case ECHO_RECEIVED ->
                echo = Optional.of(
                        new ZoneDown.EchoReceived(down.getEchoReceived().getSequence()));
            case SUBSCRIPTION_STATE ->
                state = Optional.of(new ZoneDown.SubscriptionState(
                        down.getSubscriptionState().getVersion(),
                        down.getSubscriptionState().getSnapshot()));
            case PART_NOT_SET -> {
                // a part this reader does not know: an empty message, as JSON's unknown fields were ignored
            }
        }
        return new ZoneDown(down.getVersion(), revision, withdrawal, credential, echo, state);
    }

    private static String text(String s) {
        return s == null ? "" : s;
    }

    private static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder()
                .setSeconds(t.getEpochSecond())
                .setNanos(t.getNano())
                .build();
    }

    private static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }
}
