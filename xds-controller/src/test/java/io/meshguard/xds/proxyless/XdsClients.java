package io.meshguard.xds.proxyless;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.NameResolverRegistry;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsNameResolverProvider;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * grpc-java's own xDS client, one bootstrap (node id and group) per scheme, all pointed at the controller's ADS port
 * on loopback. Each scheme has its own XdsClient and ADS stream, so tests do not share nodes.
 */
final class XdsClients implements AutoCloseable {
    private final int adsPort;
    private final List<ManagedChannel> channels = new ArrayList<>();

    XdsClients(int adsPort) {
        this.adsPort = adsPort;
    }

    /** A channel to {@code xds:///host} as node {@code nodeId} of gateway group {@code group}. */
    synchronized ManagedChannel channel(String nodeId, String group, String host) {
        String scheme = "xds-" + nodeId.replaceAll("[^a-z0-9]", "");
        Map<String, ?> bootstrap = Map.of(
                "xds_servers",
                        List.of(Map.of(
                                "server_uri", "127.0.0.1:" + adsPort,
                                "channel_creds", List.of(Map.of("type", "insecure")),
                                "server_features", List.of("xds_v3", "trusted_xds_server"))),
                "node", Map.of("id", nodeId, "cluster", group, "locality", Map.of("region", "local", "zone", "a")));
        NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme, bootstrap));
        ManagedChannel ch = ManagedChannelBuilder.forTarget(scheme + ":///" + host)
                .usePlaintext()
                .build();
        channels.add(ch);
        return ch;
    }

    /** One unary call; returns the name of the backend that answered. */
    static String call(ManagedChannel ch, String fullMethod) {
        return call(ch, fullMethod, 20);
    }

    static String call(ManagedChannel ch, String fullMethod, int deadlineSeconds) {
        byte[] reply = ClientCalls.blockingUnaryCall(
                ch,
                Backend.method(fullMethod),
                CallOptions.DEFAULT.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS),
                new byte[0]);
        return new String(reply, StandardCharsets.UTF_8);
    }

    /** {@code n} calls, up to 50 in flight; returns how many each backend answered. */
    static Map<String, Integer> callMany(ManagedChannel ch, String fullMethod, int n) throws Exception {
        Map<String, Integer> seen = new java.util.TreeMap<>();
        for (int done = 0; done < n; done += 50) {
            List<com.google.common.util.concurrent.ListenableFuture<byte[]>> batch = new ArrayList<>();
            for (int i = 0; i < Math.min(50, n - done); i++) {
                batch.add(ClientCalls.futureUnaryCall(
                        ch.newCall(
                                Backend.method(fullMethod),
                                CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS)),
                        new byte[0]));
            }
            for (var f : batch) {
                seen.merge(new String(f.get(), StandardCharsets.UTF_8), 1, Integer::sum);
            }
        }
        return seen;
    }

    @Override
    public void close() throws InterruptedException {
        for (ManagedChannel ch : channels) {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
