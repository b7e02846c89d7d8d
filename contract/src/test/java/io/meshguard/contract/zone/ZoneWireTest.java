package io.meshguard.contract.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.meshguard.contract.subscription.v1.SubscriptionStateProto;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.contract.zone.v1.ZoneSyncGrpc;
import java.io.ByteArrayInputStream;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The zone stream's method as both ends use it: every part of the generated messages survives its marshallers, the
 * names on the wire are the .proto's, and what is not a message of the stream is refused as INVALID_ARGUMENT.
 */
class ZoneWireTest {
    private static final MethodDescriptor<ZoneProto.ZoneUp, ZoneProto.ZoneDown> FOLLOW = ZoneWire.follow(1 << 20);

    @Test
    void everyDownPart_roundTripsThroughTheMarshaller_withItsVersion() {
        Instant t = Instant.parse("2026-11-23T12:00:00.123456789Z");
        for (ZoneProto.ZoneDown down : new ZoneProto.ZoneDown[] {
            ZoneWire.down()
                    .setRevision(ZoneProto.GroupRevision.newBuilder()
                            .setGroup("g")
                            .setRevision(4)
                            .setConfig("{\"routes\":[]}")
                            .setActor("alice")
                            .setReason("publish")
                            .setCreatedAt(ZoneWire.timestamp(t)))
                    .build(),
            ZoneWire.down()
                    .setWithdrawal(
                            ZoneProto.Withdrawal.newBuilder().setGroup("g").setReason("cluster left"))
                    .build(),
            ZoneWire.down()
                    .setCredential(ZoneProto.Credential.newBuilder()
                            .setSecret("secret")
                            .setExpiresAt(ZoneWire.timestamp(t)))
                    .build(),
            ZoneWire.down()
                    .setEchoReceived(ZoneProto.EchoReceived.newBuilder().setSequence(9))
                    .build(),
            ZoneWire.down()
                    .setSubscriptionState(ZoneProto.SubscriptionState.newBuilder()
                            .setVersion(3)
                            .setState(SubscriptionStateProto.SubscriptionState.newBuilder()
                                    .setVersion(3)
                                    .addTenants(SubscriptionStateProto.TenantState.newBuilder()
                                            .setTenant("initech"))))
                    .build()
        }) {
            ZoneProto.ZoneDown back = FOLLOW.parseResponse(FOLLOW.streamResponse(down));
            assertThat(back).isEqualTo(down);
            assertThat(back.getVersion()).isEqualTo(ZoneWire.VERSION);
        }
        assertThat(ZoneWire.instant(ZoneWire.timestamp(t))).isEqualTo(t);
    }

    @Test
    void hello_keepsWhichCredentialIsPresented_andTheHeldRevisions() {
        ZoneProto.ZoneUp token = ZoneWire.up()
                .setHello(ZoneProto.Hello.newBuilder()
                        .setCluster("seoul")
                        .setRegistrationToken("tok")
                        .putHeld("g", 3L)
                        .setZoneVersion("zone/1")
                        .setReplica("zone-0"))
                .build();
        ZoneProto.ZoneUp credential = ZoneWire.up()
                .setHello(ZoneProto.Hello.newBuilder()
                        .setCluster("seoul")
                        .setCredential("cred")
                        .setZoneVersion("zone/1"))
                .build();

        ZoneProto.Hello tokenBack =
                FOLLOW.parseRequest(FOLLOW.streamRequest(token)).getHello();
        ZoneProto.Hello credentialBack =
                FOLLOW.parseRequest(FOLLOW.streamRequest(credential)).getHello();

        assertThat(tokenBack.hasRegistrationToken()).isTrue();
        assertThat(tokenBack.hasCredential()).isFalse();
        assertThat(tokenBack.getHeldMap()).containsExactly(java.util.Map.entry("g", 3L));
        assertThat(credentialBack.hasRegistrationToken()).isFalse();
        assertThat(credentialBack.getCredential()).isEqualTo("cred");
        assertThat(credentialBack.getReplica()).isEmpty();
    }

    @Test
    void method_isTheGeneratedOne() {
        assertThat(FOLLOW.getFullMethodName())
                .isEqualTo(ZoneWire.SERVICE + "/" + ZoneWire.METHOD)
                .isEqualTo(ZoneSyncGrpc.getFollowMethod().getFullMethodName());
        assertThat(FOLLOW.getType()).isEqualTo(MethodDescriptor.MethodType.BIDI_STREAMING);
    }

    @Test
    void truncatedMessage_isRefusedAsInvalidArgument_namingTheType() {
        byte[] whole = ZoneWire.down()
                .setWithdrawal(ZoneProto.Withdrawal.newBuilder().setGroup("g").setReason("gone"))
                .build()
                .toByteArray();
        byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 2);

        assertThatThrownBy(() -> FOLLOW.parseResponse(new ByteArrayInputStream(cut)))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).startsWith("not a ZoneDown: ");
                });
    }
}
