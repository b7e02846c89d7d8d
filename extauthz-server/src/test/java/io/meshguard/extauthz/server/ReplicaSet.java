package io.meshguard.extauthz.server;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.LoopbackGrpc;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Replicas of one extauthz configuration over real gRPC on loopback, sharing one PostgreSQL, a channel to each, and the
 * first one's quota and API-key admin API on an HTTP port. Closing shuts the channels, then the replicas, then the port.
 */
record ReplicaSet(List<ExtAuthzServer> servers, List<ManagedChannel> channels, StatusHttpServer http)
        implements AutoCloseable {

    /** Starts {@code count} replicas of {@code config}; {@code httpName} names the admin port in metrics and logs. */
    static ReplicaSet start(int count, ExtAuthzConfig config, DataSource db, String httpName) throws Exception {
        ReplicaSet set = new ReplicaSet(
                new ArrayList<>(),
                new ArrayList<>(),
                new StatusHttpServer(
                        httpName,
                        new HttpServerSettings("127.0.0.1", 0),
                        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT)));
        try {
            for (int i = 0; i < count; i++) {
                ExtAuthzServer s = new ExtAuthzServer(
                        config, new SimpleMeterRegistry(), Optional.of(db), e -> {}, Clock.systemUTC());
                set.servers.add(s);
                if (i == 0) {
                    s.mountQuotaApi(set.http);
                }
                s.start();
                set.channels.add(LoopbackGrpc.channelTo(s.grpcPort()));
            }
            set.http.start();
            return set;
        } catch (Exception | Error e) {
            set.close();
            throw e;
        }
    }

    ManagedChannel channel(int replica) {
        return channels.get(replica);
    }

    /** A POST of {@code body} to the admin port's {@code path} with bearer {@code token}. */
    HttpResponse<String> post(String path, String token, String body) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http.port() + path))
                                .header("Authorization", "Bearer " + token)
                                .POST(HttpRequest.BodyPublishers.ofString(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    /** A Check of {@code /api/x} on {@code api.test.example} with {@code key} in {@code x-api-key}, as a gateway asks it. */
    static CheckResponse checkWithKey(ManagedChannel ch, String key) {
        return AuthorizationGrpc.newBlockingStub(ch)
                .withDeadlineAfter(Duration.ofSeconds(30))
                .check(CheckRequests.of(
                        "GET",
                        "api.test.example",
                        "/api/x",
                        Map.of("x-api-key", List.of(key)),
                        Map.of(),
                        CheckRequests.Encoding.HEADERS));
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
        servers.forEach(ExtAuthzServer::close);
        http.close();
    }
}
