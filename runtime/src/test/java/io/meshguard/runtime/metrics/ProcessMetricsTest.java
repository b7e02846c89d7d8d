package io.meshguard.runtime.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.runtime.BuildInfo;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;

class ProcessMetricsTest {

    @Test
    void serverViews_shareOneRegistryAndAreTellApartByServerLabel() {
        try (ProcessMetrics metrics = ProcessMetrics.create()) {
            metrics.forServer("extauthz").counter("meshguard.demo.requests").increment();
            metrics.forServer("dlp").counter("meshguard.demo.requests").increment(2);

            String scrape = metrics.scrape();

            assertThat(scrape)
                    .contains("meshguard_demo_requests_total{server=\"extauthz\"} 1.0")
                    .contains("meshguard_demo_requests_total{server=\"dlp\"} 2.0");
            // JVM meters describe the process and appear once, without a server label.
            assertThat(scrape.lines().filter(l -> l.startsWith("process_uptime_seconds")))
                    .singleElement()
                    .asString()
                    .doesNotContain("server=");
        }
    }

    @Test
    void scrape_carriesBuildInfo_onceWithVersionCommitAndJava() {
        BuildInfo build = BuildInfo.current();
        try (ProcessMetrics metrics = ProcessMetrics.create()) {
            metrics.forServer("extauthz");

            assertThat(metrics.scrape().lines().filter(l -> l.startsWith("meshguard_build_info")))
                    .singleElement()
                    .asString()
                    .contains("version=\"" + build.version() + "\"")
                    .contains("commit=\"" + build.commit() + "\"")
                    .contains("java=\"" + build.java() + "\"")
                    .doesNotContain("server=")
                    .endsWith(" 1");
        }
    }

    @Test
    void forServer_sameName_returnsSameView() {
        try (ProcessMetrics metrics = ProcessMetrics.create()) {
            MeterRegistry first = metrics.forServer("xds");

            assertThat(metrics.forServer("xds")).isSameAs(first);
        }
    }

    @Test
    void forServer_badName_isRejected() {
        try (ProcessMetrics metrics = ProcessMetrics.create()) {
            assertThatThrownBy(() -> metrics.forServer("Ext Authz")).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void removingAMeterFromAView_removesItsSeries() {
        try (ProcessMetrics metrics = ProcessMetrics.create()) {
            MeterRegistry view = metrics.forServer("extauthz");
            var gauge = io.micrometer.core.instrument.Gauge.builder("meshguard.demo.info", () -> 1)
                    .tag("version", "abc")
                    .register(view);
            assertThat(metrics.scrape()).contains("version=\"abc\"");

            view.remove(gauge);

            assertThat(metrics.scrape()).doesNotContain("version=\"abc\"");
        }
    }

    /** Review IC-12: Micrometer's gRPC interceptor tags methodType and statusCode; Prometheus' lint wants snake_case. */
    @Test
    void camelCaseTagKeys_areExposedInSnakeCase() {
        try (ProcessMetrics metrics = ProcessMetrics.create()) {
            io.micrometer.core.instrument.Counter.builder("grpc.server.requests.received")
                    .description("received")
                    .tag("methodType", "UNARY")
                    .tag("statusCode", "OK")
                    .tag("method", "Check")
                    .register(metrics.forServer("extauthz"))
                    .increment();
            String scrape = metrics.scrape();
            assertThat(scrape)
                    .contains("method_type=\"UNARY\"")
                    .contains("status_code=\"OK\"")
                    .doesNotContain("methodType")
                    .doesNotContain("statusCode");
        }
        assertThat(ProcessMetrics.snakeCase("methodType")).isEqualTo("method_type");
        assertThat(ProcessMetrics.snakeCase("already_snake")).isEqualTo("already_snake");
        assertThat(ProcessMetrics.snakeCase("HTTPStatus")).isEqualTo("http_status");
    }
}
