package io.meshguard.dlp.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class DlpMetricsTest {
    @Test
    void vectorBytes_showsTheVectorSearchesOfThisJvm() {
        // Test JVMs run with the vector module, as deployments do, on CPUs with 256- or 512-bit vectors.
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new DlpMetrics(registry);
        assertThat(registry.get("meshguard_dlp_vector_bytes").gauge().value()).isIn(32.0, 64.0);
    }
}
