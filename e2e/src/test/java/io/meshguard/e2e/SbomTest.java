package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The software bill of materials of the one artifact meshguard ships, the shaded {@code meshguard} jar: CycloneDX
 * written by the cli module's package phase (this module runs after it). It names the jar at the build's version and
 * every library it bundles, each with a package URL and a SHA-256, and nothing that only the tests use.
 */
class SbomTest {
    static final Path BOM =
            Path.of("..", "cli", "target", "bom.json").toAbsolutePath().normalize();

    @Test
    void bom_namesTheJarAtTheBuildsVersion_andEveryBundledLibraryWithPurlAndSha256() throws Exception {
        // the plugin skips makeBom offline ("requires online mode"); the README's ./mvnw verify runs online
        org.junit.jupiter.api.Assumptions.assumeFalse(
                System.getProperty("meshguard.maven.mode", "").equals("offline=true"),
                "Maven ran offline (-o): cyclonedx-maven-plugin writes no SBOM then");
        assertThat(BOM)
                .as("written by cli's package phase (cyclonedx-maven-plugin)")
                .exists();
        JsonNode bom = new ObjectMapper().readTree(Files.readString(BOM));

        assertThat(bom.path("bomFormat").asText()).isEqualTo("CycloneDX");
        assertThat(bom.path("specVersion").asText()).isEqualTo("1.6");
        JsonNode jar = bom.path("metadata").path("component");
        assertThat(jar.path("name").asText()).isEqualTo("meshguard-cli");
        assertThat(jar.path("version").asText())
                .isEqualTo(io.meshguard.runtime.BuildInfo.current().version());

        List<String> names = new ArrayList<>();
        List<String> incomplete = new ArrayList<>();
        for (JsonNode c : bom.path("components")) {
            String name = c.path("group").asText() + ":" + c.path("name").asText();
            names.add(name);
            boolean sha256 = false;
            for (JsonNode h : c.path("hashes")) {
                sha256 |= h.path("alg").asText().equals("SHA-256")
                        && h.path("content").asText().length() == 64;
            }
            if (!c.path("purl").asText().startsWith("pkg:maven/") || !sha256) {
                incomplete.add(name);
            }
        }
        assertThat(names)
                .as("what the jar bundles")
                .contains(
                        "io.grpc:grpc-netty-shaded",
                        "org.postgresql:postgresql",
                        "com.nimbusds:nimbus-jose-jwt",
                        "io.meshguard:meshguard-extauthz-server",
                        "io.meshguard:meshguard-xds-controller",
                        "io.envoyproxy.controlplane:api");
        assertThat(names)
                .as("test-only libraries are not shipped")
                .noneMatch(n ->
                        n.startsWith("org.junit") || n.startsWith("org.assertj") || n.startsWith("org.awaitility"));
        assertThat(incomplete)
                .as("components without a package URL or a SHA-256")
                .isEmpty();
    }
}
