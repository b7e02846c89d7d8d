package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The install-time checks in manifests/istio/scripts, run for real with the output of the commands their usage
 * names (istioctl version, image references, namespace labels) on stdin. Review items A3 (Istio floor) and B1
 * (no sidecar, or ambient: labels that protect nothing).
 */
@IntegrationTest
class InstallChecksTest {
    record Result(int exit, String out) {}

    private static Result run(String script, String stdin) throws IOException, InterruptedException {
        Path file = RepoPaths.manifests().resolve("scripts").resolve(script);
        Path out = Files.createTempFile("check", ".out");
        try {
            Process p = new ProcessBuilder("sh", file.toString(), "-")
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            try (var in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            assertThat(p.waitFor(30, TimeUnit.SECONDS))
                    .as("%s finished", script)
                    .isTrue();
            return new Result(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void istioVersionCheck_refusesIstioBelow126() throws Exception {
        for (String old : new String[] {
            "docker.io/istio/pilot:1.22.3",
            "docker.io/istio/pilot:1.24.3-distroless",
            "gcr.io/istio-release/pilot:1.25.2"
        }) {
            Result r = run("check-istio-version.sh", old + "\n");
            assertThat(r.exit()).as(old).isEqualTo(1);
            assertThat(r.out()).contains("too old").contains("1.26");
        }
    }

    @Test
    void istioVersionCheck_acceptsTheFloorAndNewer() throws Exception {
        Result r = run(
                "check-istio-version.sh",
                "docker.io/istio/pilot:1.26.0 registry.internal:5000/istio/proxyv2:1.28.1-distroless\n");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("ok: docker.io/istio/pilot:1.26.0");
    }

    @Test
    void istioVersionCheck_readsIstioctlOutput_andIgnoresTheClientVersion() throws Exception {
        String current =
                "client version: 1.22.0\ncontrol plane version: 1.27.2\ndata plane version: 1.27.2 (14 proxies)\n";
        assertThat(run("check-istio-version.sh", current).exit()).isZero();
        // A data plane still on an old proxy gets the filter it cannot load.
        String mixed =
                "client version: 1.27.2\ncontrol plane version: 1.27.2\ndata plane version: 1.24.1 (3 proxies), 1.27.2 (11 proxies)\n";
        assertThat(run("check-istio-version.sh", mixed).exit()).isEqualTo(1);
    }

    @Test
    void istioVersionCheck_withNoReadableVersion_asksForAManualCheck() throws Exception {
        assertThat(run("check-istio-version.sh", "docker.io/istio/pilot@sha256:0f3a\n")
                        .exit())
                .isEqualTo(2);
        assertThat(run("check-istio-version.sh", "").exit()).isEqualTo(2);
    }

    @Test
    void namespaceCheck_acceptsInjectionByLabelOrRevision() throws Exception {
        assertThat(run("check-app-namespace.sh", "kubernetes.io/metadata.name=payments\nistio-injection=enabled\n")
                        .exit())
                .isZero();
        assertThat(run("check-app-namespace.sh", "istio.io/rev=1-27-2\n").exit())
                .isZero();
    }

    @Test
    void namespaceCheck_refusesAmbientAndNamespacesWithoutSidecars() throws Exception {
        Result ambient = run("check-app-namespace.sh", "istio.io/dataplane-mode=ambient\nistio-injection=enabled\n");
        assertThat(ambient.exit()).isEqualTo(1);
        assertThat(ambient.out()).contains("ambient");
        assertThat(run("check-app-namespace.sh", "kubernetes.io/metadata.name=payments\n")
                        .exit())
                .isEqualTo(1);
        assertThat(run("check-app-namespace.sh", "istio-injection=disabled\nistio.io/rev=1-27-2\n")
                        .exit())
                .isEqualTo(1);
    }
}
