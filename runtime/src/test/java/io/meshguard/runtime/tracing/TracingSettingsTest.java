package io.meshguard.runtime.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.runtime.config.ConfigException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OTEL_* variables: off by default, every value checked, a bad one named in the start-up error. */
class TracingSettingsTest {
    @TempDir
    Path dir;

    private static Map<String, String> env(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return m;
    }

    @Test
    void emptyEnvironment_isOff_withTheSpecificationsOtherDefaults() throws Exception {
        TracingSettings s = TracingSettings.fromEnvironment(Map.of());
        assertThat(s.exporting()).isFalse();
        assertThat(s.endpoint()).isEqualTo(URI.create("http://localhost:4317"));
        assertThat(s.sampler()).isEqualTo(TracingSettings.Sampler.PARENTBASED_ALWAYS_ON);
        assertThat(s.propagators())
                .containsExactly(
                        TracingSettings.Propagator.TRACECONTEXT,
                        TracingSettings.Propagator.BAGGAGE,
                        TracingSettings.Propagator.B3MULTI);
        assertThat(s.batch())
                .isEqualTo(new TracingSettings.Batch(Duration.ofSeconds(5), Duration.ofSeconds(30), 2048, 512));
    }

    @Test
    void endpointAlone_doesNotTurnTracingOn_onlyTheOtlpExporterDoes() throws Exception {
        assertThat(TracingSettings.fromEnvironment(env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"))
                        .exporting())
                .isFalse();
        assertThat(TracingSettings.fromEnvironment(env("OTEL_TRACES_EXPORTER", "otlp"))
                        .exporting())
                .isTrue();
        assertThat(TracingSettings.fromEnvironment(env("OTEL_TRACES_EXPORTER", "otlp", "OTEL_SDK_DISABLED", "true"))
                        .exporting())
                .isFalse();
    }

    @Test
    void tracesSpecificVariables_winOverTheGeneralOnes() throws Exception {
        TracingSettings s = TracingSettings.fromEnvironment(env(
                "OTEL_TRACES_EXPORTER",
                "otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://general:4317",
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "https://traces.example:443",
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=general",
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "api-key=s%3Dcret,tenant=bank",
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                "2500",
                "OTEL_EXPORTER_OTLP_COMPRESSION",
                "gzip",
                "OTEL_TRACES_SAMPLER",
                "parentbased_traceidratio",
                "OTEL_TRACES_SAMPLER_ARG",
                "0.25",
                "OTEL_PROPAGATORS",
                "b3,tracecontext",
                "OTEL_SERVICE_NAME",
                "authz-eu",
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,k8s.namespace.name=mesh"));
        assertThat(s.endpoint()).isEqualTo(URI.create("https://traces.example:443"));
        assertThat(s.headers()).containsExactlyInAnyOrderEntriesOf(Map.of("api-key", "s=cret", "tenant", "bank"));
        assertThat(s.timeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(s.gzip()).isTrue();
        assertThat(s.sampler()).isEqualTo(TracingSettings.Sampler.PARENTBASED_TRACEIDRATIO);
        assertThat(s.samplerRatio()).isEqualTo(0.25);
        assertThat(s.propagators())
                .containsExactly(TracingSettings.Propagator.B3, TracingSettings.Propagator.TRACECONTEXT);
        assertThat(s.serviceName()).contains("authz-eu");
        assertThat(s.resourceAttributes()).containsEntry("deployment.environment", "prod");
    }

    @Test
    void everyBadValue_failsTheStart_namingItsVariable_allAtOnce() {
        assertThatThrownBy(() -> TracingSettings.fromEnvironment(env(
                        "OTEL_TRACES_EXPORTER",
                        "jaeger",
                        "OTEL_EXPORTER_OTLP_PROTOCOL",
                        "http/protobuf",
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "collector:4317",
                        "OTEL_TRACES_SAMPLER",
                        "always-on",
                        "OTEL_TRACES_SAMPLER_ARG",
                        "1.5",
                        "OTEL_PROPAGATORS",
                        "tracecontext,xray",
                        "OTEL_SDK_DISABLED",
                        "yes",
                        "OTEL_BSP_MAX_QUEUE_SIZE",
                        "100",
                        "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                        "500",
                        "OTEL_BSP_SCHEDULE_DELAY",
                        "-1",
                        "OTEL_EXPORTER_OTLP_HEADERS",
                        "api-key")))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .extracting(p -> p.location())
                        .containsExactlyInAnyOrder(
                                "env OTEL_TRACES_EXPORTER",
                                "env OTEL_EXPORTER_OTLP_PROTOCOL",
                                "env OTEL_EXPORTER_OTLP_ENDPOINT",
                                "env OTEL_TRACES_SAMPLER",
                                "env OTEL_TRACES_SAMPLER_ARG",
                                "env OTEL_PROPAGATORS",
                                "env OTEL_SDK_DISABLED",
                                "env OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                                "env OTEL_BSP_SCHEDULE_DELAY",
                                "env OTEL_EXPORTER_OTLP_HEADERS"))
                .hasMessageContaining("OTLP/gRPC")
                .hasMessageContaining("xray");
    }

    @Test
    void aHeaderValue_isNeverEchoedInTheError() {
        assertThatThrownBy(() -> TracingSettings.fromEnvironment(
                        env("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%2sup3r-secret-token")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("authorization")
                .hasMessageNotContaining("sup3r-secret-token");
    }

    @Test
    void endpointsWithPathsOrWithoutScheme_areRefused_andCertificatesNeedTls() throws Exception {
        for (String bad :
                List.of("otel:4317", "http://otel:4318/v1/traces", "ftp://otel:21", "http://user:pw@otel:4317")) {
            assertThatThrownBy(() -> TracingSettings.fromEnvironment(env("OTEL_EXPORTER_OTLP_ENDPOINT", bad)))
                    .as(bad)
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("OTEL_EXPORTER_OTLP_ENDPOINT");
        }
        Path ca = Files.writeString(dir.resolve("ca.pem"), "-----BEGIN CERTIFICATE-----\n");
        assertThatThrownBy(() -> TracingSettings.fromEnvironment(env(
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "http://otel:4317",
                        "OTEL_EXPORTER_OTLP_CERTIFICATE",
                        ca.toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("plaintext");
        assertThatThrownBy(() -> TracingSettings.fromEnvironment(env(
                        "OTEL_EXPORTER_OTLP_CERTIFICATE",
                        dir.resolve("missing.pem").toString())))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("does not exist");
        assertThat(TracingSettings.fromEnvironment(env(
                                "OTEL_EXPORTER_OTLP_ENDPOINT",
                                "https://otel:4317",
                                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                                ca.toString()))
                        .trustedCertificates())
                .contains(ca);
    }

    @Test
    void offTracing_isANoopTracer_withTheEnabledGaugeAtZero() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Tracing tracing = Tracing.fromEnvironment(Map.of(), "svc", registry);
        assertThat(tracing.enabled()).isFalse();
        assertThat(tracing.startServerSpan(RpcMethod.AUTHZ_CHECK, name -> java.util.Optional.empty(), System.nanoTime())
                        .getSpanContext()
                        .isValid())
                .isFalse();
        assertThat(registry.get("meshguard_tracing_enabled").gauge().value()).isZero();
        assertThat(Thread.getAllStackTraces().keySet())
                .noneMatch(t -> t.getName().contains("BatchSpanProcessor"));
        tracing.close();
    }
}
