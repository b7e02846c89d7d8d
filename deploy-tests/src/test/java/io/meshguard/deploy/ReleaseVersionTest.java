package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;

/**
 * One version everywhere: the image tag every shipped kustomization pins, and every image reference the
 * install docs show, is the Maven version the jar, {@code meshguard -V} and {@code meshguard_build_info} carry. A
 * release bumps the pom and these together, or this fails.
 */
class ReleaseVersionTest {
    /** An image reference of ours with a tag, as docs write it. */
    private static final Pattern IMAGE_REF = Pattern.compile("meshguard/meshguard:([A-Za-z0-9_.-]+)");

    /** The root pom's version: the one version of every module. */
    static String pomVersion() throws Exception {
        var pom = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(RepoPaths.root().resolve("pom.xml").toFile());
        return XPathFactory.newInstance()
                .newXPath()
                .evaluate("/project/version", pom)
                .trim();
    }

    @Test
    void everyShippedKustomization_pinsTheMavenVersion() throws Exception {
        String version = pomVersion();
        List<String> pins = new ArrayList<>();
        List<String> wrong = new ArrayList<>();
        for (Path k : YamlDocuments.filesUnder(RepoPaths.manifests())) {
            if (!k.getFileName().toString().equals("kustomization.yaml")) {
                continue;
            }
            // The dev overlay follows a moving `dev` tag on purpose: a development cluster runs what CI pushed last.
            boolean dev = RepoPaths.manifests().relativize(k).startsWith("overlays/dev");
            for (JsonNode image : YamlDocuments.read(k).getFirst().node().path("images")) {
                if (!image.path("name").asText().equals("meshguard") || dev) {
                    continue;
                }
                String where = RepoPaths.manifests().relativize(k) + ": "
                        + image.path("newTag").asText();
                pins.add(where);
                // pinned by digest instead of a tag (install.md, "Mirroring and signing"): no version to compare
                boolean byDigest = image.has("digest") && !image.has("newTag");
                if (!byDigest && !image.path("newTag").asText().equals(version)) {
                    wrong.add(where);
                }
            }
        }
        assertThat(pins).as("base, ops and migrate pin the image").hasSizeGreaterThanOrEqualTo(3);
        assertThat(wrong)
                .as("image tags that differ from the pom's version %s", version)
                .isEmpty();
    }

    @Test
    void installDocs_showTheMavenVersionInEveryImageReference() throws Exception {
        String version = pomVersion();
        List<String> wrong = new ArrayList<>();
        for (Path doc : List.of(
                RepoPaths.root().resolve("deploy/README.md"), RepoPaths.root().resolve("docs/install.md"))) {
            Matcher m = IMAGE_REF.matcher(Files.readString(doc));
            while (m.find()) {
                if (!m.group(1).equals(version)) {
                    wrong.add(RepoPaths.root().relativize(doc) + ": " + m.group());
                }
            }
        }
        assertThat(wrong)
                .as("image references in the install docs that differ from %s", version)
                .isEmpty();
    }

    @Test
    void imageRefPattern_findsTheTag() {
        Matcher m = IMAGE_REF.matcher("-Djib.to.image=registry.example.internal/meshguard/meshguard:1.2.3 \\");
        assertThat(m.find()).isTrue();
        assertThat(m.group(1)).isEqualTo("1.2.3");
    }
}
