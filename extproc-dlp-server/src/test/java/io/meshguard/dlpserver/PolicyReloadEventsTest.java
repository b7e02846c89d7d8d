package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.policy.PolicyReload;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every dlp.yaml reload after the load at start, taken or refused, is told to the reload listeners (the trail). */
class PolicyReloadEventsTest {
    @TempDir
    Path dir;

    @Test
    void reloads_tellTheFilesDigestsBeforeAndAfter_andWhyARefusedOneWasRefused() throws Exception {
        Path file = dir.resolve("dlp.yaml");
        Files.writeString(file, ServerFixture.POLICY);
        PolicyHolder holder = new PolicyHolder(file, new DlpMetrics(new SimpleMeterRegistry()));
        List<PolicyReload> told = new CopyOnWriteArrayList<>();
        holder.addReloadListener(told::add);
        String v1 = PolicyReload.digestOf(ServerFixture.POLICY.getBytes(StandardCharsets.UTF_8));

        assertThat(holder.reload()).isFalse();
        assertThat(told).as("unchanged files are no reload").isEmpty();

        String renamed = ServerFixture.POLICY.replace("name: small", "name: tiny");
        Files.writeString(file, renamed);
        assertThat(holder.reload()).isTrue();
        String v2 = PolicyReload.digestOf(renamed.getBytes(StandardCharsets.UTF_8));

        String broken = ServerFixture.POLICY.replace("card: block", "card: explode");
        Files.writeString(file, broken);
        assertThat(holder.reload()).isFalse();
        assertThat(holder.reload()).as("the same refused file again").isFalse();

        assertThat(told).hasSize(2);
        assertThat(told.get(0)).satisfies(r -> {
            assertThat(r.accepted()).isTrue();
            assertThat(r.policy()).isEqualTo("dlp");
            assertThat(r.digestBefore()).contains(v1);
            assertThat(r.digestAfter()).contains(v2);
        });
        assertThat(told.get(1)).satisfies(r -> {
            assertThat(r.accepted()).isFalse();
            assertThat(r.digestBefore()).as("the policy in force").contains(v2);
            assertThat(r.digestAfter()).contains(PolicyReload.digestOf(broken.getBytes(StandardCharsets.UTF_8)));
            assertThat(r.detail()).contains("explode");
        });
    }
}
