package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import org.junit.jupiter.api.Test;

/** The strict Envoy parser itself: unknown fields, wrong types and unregistered extension types fail. */
class EnvoyProtosTest {
    private static com.fasterxml.jackson.databind.JsonNode yaml(String text) {
        return YamlDocuments.parse("inline.yaml", text).getFirst().node();
    }

    @Test
    void httpFilter_withExtProcConfig_resolvesTypedConfig() throws Exception {
        HttpFilter filter = (HttpFilter) EnvoyProtos.patchValue("inline", "HTTP_FILTER", yaml("""
                name: envoy.filters.http.ext_proc
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
                  grpc_service: {envoy_grpc: {cluster_name: c}}
                  failure_mode_allow: false
                  processing_mode: {response_body_mode: FULL_DUPLEX_STREAMED}
                """));
        ExternalProcessor config = filter.getTypedConfig().unpack(ExternalProcessor.class);
        assertThat(config.getGrpcService().getEnvoyGrpc().getClusterName()).isEqualTo("c");
        assertThat(config.getProcessingMode().getResponseBodyMode().name()).isEqualTo("FULL_DUPLEX_STREAMED");
    }

    @Test
    void typedConfig_withMisspelledField_isRejected() {
        assertThatThrownBy(() -> EnvoyProtos.patchValue("inline", "HTTP_FILTER", yaml("""
                name: envoy.filters.http.ext_proc
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
                  failure_mode_alow: false
                """)))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining("failure_mode_alow");
    }

    @Test
    void typedConfig_withUnknownEnumValue_isRejected() {
        assertThatThrownBy(() -> EnvoyProtos.patchValue("inline", "HTTP_FILTER", yaml("""
                name: envoy.filters.http.ext_proc
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
                  processing_mode: {response_body_mode: FULL_DUPLEX}
                """)))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining("FULL_DUPLEX");
    }

    @Test
    void typedConfig_withUnregisteredType_isRejected() {
        assertThatThrownBy(() -> EnvoyProtos.patchValue("inline", "HTTP_FILTER", yaml("""
                name: envoy.filters.http.lua
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                  default_source_code: {inline_string: "x"}
                """)))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining("envoy.extensions.filters.http.lua.v3.Lua");
    }

    @Test
    void bootstrap_withWrongValueType_isRejected() {
        assertThatThrownBy(() -> EnvoyProtos.bootstrap("inline", yaml("""
                admin:
                  address: {socket_address: {address: 127.0.0.1, port_value: nine}}
                """)))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining("Bootstrap");
    }

    @Test
    void patchValue_forUnknownApplyTo_isRejected() {
        assertThatThrownBy(() -> EnvoyProtos.patchValue("inline", "HTTP_FILTERS", yaml("name: x")))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining("HTTP_FILTERS");
    }
}
