package io.meshguard.bench.catalog;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.extauthz.subscription.SubscriptionStateClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;

/**
 * One extauthz replica's subscription state in a JVM of its own, for {@link SubscriptionDeltaBench}: extauthz's own
 * {@link SubscriptionStateClient} following the controller's ADS port, and the decision extauthz's
 * {@code SubscriptionGate} asks of it for one credential on one publish, polled every 100 µs. Prints
 * {@code STATE granted|denied|none <System.nanoTime()>} whenever that decision changes (nanoTime is the host's
 * monotonic clock on Linux, so the parent compares it with its own), and answers each {@code heap} line on stdin with
 * {@code HEAP <bytes used after a full GC>}; the first line, before the client starts, is {@code BASE <bytes>}.
 *
 * <pre>java -cp … SubscriptionReplicaProcess host port replica-id publish credential [delta|sotw]</pre>
 */
public final class SubscriptionReplicaProcess {
    private SubscriptionReplicaProcess() {}

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        String replica = args[2];
        String publish = args[3];
        String credential = args[4];
        SubscriptionStateClient.Protocol protocol = args.length > 5 && args[5].equals("sotw")
                ? SubscriptionStateClient.Protocol.STATE_OF_THE_WORLD
                : SubscriptionStateClient.Protocol.DELTA;
        System.out.println("BASE " + usedAfterGc());
        System.out.flush();
        ManagedChannel channel = NettyChannelBuilder.forAddress(host, port)
                .usePlaintext()
                .maxInboundMessageSize(256 * 1024 * 1024)
                .build();
        SubscriptionStateClient client = new SubscriptionStateClient(
                        channel, replica, Duration.ofSeconds(60), Clock.systemUTC(), protocol)
                .start();
        Thread.ofPlatform().daemon().name("heap").start(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.equals("heap")) {
                        long used = usedAfterGc();
                        synchronized (System.out) {
                            System.out.println("HEAP " + used);
                            System.out.flush();
                        }
                    }
                }
            } catch (java.io.IOException e) {
                // the parent went away
            }
            System.exit(0);
        });
        String last = "";
        while (true) {
            String now = client.current()
                    .map(s -> s.decide(publish, AuthMode.APIKEY, credential, Instant.now())
                                    instanceof AccessDecision.Granted
                            ? "granted"
                            : "denied")
                    .orElse("none");
            if (!now.equals(last)) {
                long at = System.nanoTime();
                synchronized (System.out) {
                    System.out.println("STATE " + now + " " + at);
                    System.out.flush();
                }
                last = now;
            }
            LockSupport.parkNanos(100_000);
        }
    }

    private static long usedAfterGc() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }
}
