package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.UnknownFieldSet;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import org.junit.jupiter.api.Test;

class ModelledFieldsTest {

    @Test
    void modelledFieldsOnly_reportNothing() {
        Cluster c = Cluster.newBuilder()
                .setName("a")
                .setType(Cluster.DiscoveryType.STRICT_DNS)
                .build();
        assertThat(ModelledFields.unmodelled("Cluster a", c)).isEmpty();
    }

    @Test
    void aFieldNobodyModelled_isReportedWithItsPath() {
        Cluster c = Cluster.newBuilder()
                .setName("a")
                .setOutlierDetection(OutlierDetection.getDefaultInstance())
                .build();
        assertThat(ModelledFields.unmodelled("Cluster a", c))
                .containsExactly("Cluster a.outlier_detection (envoy.config.cluster.v3.Cluster.outlier_detection)");
    }

    @Test
    void fieldsInsideAnAny_areWalkedByTheirTypeUrl() {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder()
                .addHttpFilters(HttpFilter.newBuilder()
                        .setName("envoy.filters.http.ext_authz")
                        .setTypedConfig(Any.pack(
                                ExtAuthz.newBuilder().setClearRouteCache(true).build())))
                .build();
        Listener l = Listener.newBuilder()
                .setName("l")
                .addFilterChains(FilterChain.newBuilder()
                        .addFilters(Filter.newBuilder().setName("hcm").setTypedConfig(Any.pack(hcm))))
                .build();
        assertThat(ModelledFields.unmodelled("Listener l", l))
                .singleElement()
                .asString()
                .contains("clear_route_cache");
    }

    @Test
    void anAnyOfAnUnknownType_andUnknownFieldNumbers_areReported() {
        Filter unknownType = Filter.newBuilder()
                .setName("x")
                .setTypedConfig(Any.newBuilder().setTypeUrl("type.googleapis.com/example.Unknown"))
                .build();
        assertThat(ModelledFields.unmodelled("Filter x", unknownType))
                .singleElement()
                .asString()
                .contains("type URL not modelled: type.googleapis.com/example.Unknown");

        GrpcService.EnvoyGrpc withUnknown = GrpcService.EnvoyGrpc.newBuilder()
                .setClusterName("c")
                .setUnknownFields(UnknownFieldSet.newBuilder()
                        .addField(
                                99,
                                UnknownFieldSet.Field.newBuilder().addVarint(1).build())
                        .build())
                .build();
        assertThat(ModelledFields.unmodelled("g", withUnknown))
                .singleElement()
                .asString()
                .contains("unknown field numbers [99]");
    }
}
