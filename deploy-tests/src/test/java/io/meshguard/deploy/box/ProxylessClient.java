package io.meshguard.deploy.box;

import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * A bank's proxyless gRPC client as docs/proxyless-clients.md sets it up: grpc-java's own xDS client, its bootstrap in
 * {@code GRPC_XDS_BOOTSTRAP} naming the controller's ADS address (reached through the pod's sidecar), a channel to
 * {@code xds:///HOST}. One unary call; prints {@code OK reply} or {@code FAILED status}.
 */
public final class ProxylessClient {
    private ProxylessClient() {}

    public static void main(String[] args) throws Exception {
        ManagedChannel channel = Grpc.newChannelBuilder("xds:///" + args[0], InsecureChannelCredentials.create())
                .build();
        int exit = 0;
        try {
            byte[] reply = ClientCalls.blockingUnaryCall(
                    channel,
                    BankBackend.unary(args[1]),
                    CallOptions.DEFAULT.withDeadlineAfter(Integer.parseInt(args[2]), TimeUnit.SECONDS),
                    new byte[0]);
            System.out.println("OK " + new String(reply, StandardCharsets.UTF_8));
        } catch (StatusRuntimeException e) {
            System.out.println("FAILED " + e.getStatus());
            exit = 1;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        System.exit(exit);
    }
}
