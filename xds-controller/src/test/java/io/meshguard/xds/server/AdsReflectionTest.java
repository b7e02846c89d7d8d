package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.grpc.ManagedChannel;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The README promises reflection on every gRPC server: grpcurl can list ADS too. */
@IntegrationTest
class AdsReflectionTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void ads_servesReflection_listingTheAggregatedDiscoveryService() throws Exception {
        HikariDataSource ds = PG.dataSource();
        XdsController xds = XdsController.create(
                XdsSettings.onLoopback("test", Optional.empty()), ds, new SimpleMeterRegistry(), change -> {});
        xds.start();
        ManagedChannel channel = LoopbackGrpc.channelTo(xds.adsPort());
        try {
            CompletableFuture<List<String>> services = new CompletableFuture<>();
            StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                    .serverReflectionInfo(new StreamObserver<>() {
                        @Override
                        public void onNext(ServerReflectionResponse response) {
                            services.complete(response.getListServicesResponse().getServiceList().stream()
                                    .map(ServiceResponse::getName)
                                    .toList());
                        }

                        @Override
                        public void onError(Throwable t) {
                            services.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {}
                    });
            requests.onNext(
                    ServerReflectionRequest.newBuilder().setListServices("").build());
            requests.onCompleted();

            assertThat(services.get(30, TimeUnit.SECONDS))
                    .contains("envoy.service.discovery.v3.AggregatedDiscoveryService", "grpc.health.v1.Health");
        } finally {
            channel.shutdownNow();
            xds.close();
        }
    }
}
