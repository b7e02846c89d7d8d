package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/release-assemble}, the part of {@code scripts/release} that needs no build: run on stand-ins for the
 * jar, the image archive, its package list and the SBOM, it must write every artefact docs/release.md lists, the
 * manifests running the image by its digest alone, checksums that match, the CHANGELOG section of the version and
 * nothing else as notes, and a provenance naming commit, digest, JDK and packages; and it must refuse, writing
 * nothing, a version without notes or an archive that is not an image.
 */
class ReleaseAssemblyTest {
    private static final String VERSION = "1.0.0-rc.1";
    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    private static final String NAME = "meshguard-" + VERSION;
    private static final List<String> ARTEFACTS = List.of(
            "RELEASE-NOTES.md",
            "SHA256SUMS",
            "image-digest.txt",
            "manifests/istio-app-namespace.yaml",
            "manifests/istio-canary.yaml",
            "manifests/istio-migrate.yaml",
            "manifests/istio-monitoring.yaml",
            "manifests/istio-namespace.yaml",
            "manifests/istio-ops.yaml",
            "manifests/istio-overlays-zone.yaml",
            "manifests/istio.yaml",
            NAME + "-image-packages.tsv",
            NAME + "-image.tar",
            NAME + "-manifests-src.tar.gz",
            NAME + ".cdx.json",
            NAME + ".cdx.xml",
            NAME + ".jar",
            "provenance.json");

    @TempDir
    Path dir;

    private Path out;
    private String digest;
    private Path changelog;

    @BeforeEach
    void standIns() throws Exception {
        assumeTrue(Kustomize.available(), "kubectl is not on the PATH: the release's manifests cannot be rendered");
        out = dir.resolve("out");
        digest = "sha256:" + sha256("the image manifest".getBytes(StandardCharsets.UTF_8));
        Files.writeString(dir.resolve("meshguard.jar"), "a jar");
        Path layout = Files.createDirectories(dir.resolve("oci"));
        Files.writeString(
                layout.resolve("index.json"),
                "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                        + "\"digest\":\"" + digest + "\",\"size\":512}]}");
        Files.writeString(layout.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        run(List.of(
                "tar",
                "-C",
                layout.toString(),
                "-cf",
                dir.resolve("image.tar").toString(),
                "index.json",
                "oci-layout"));
        Files.writeString(
                dir.resolve("image-packages.tsv"),
                "package\tversion\tarchitecture\tsha256\nlibc6\t2.36-9+deb12u10\tamd64\t"
                        + sha256("libc6".getBytes(StandardCharsets.UTF_8)) + "\n");
        Files.writeString(dir.resolve("bom.json"), "{\"bomFormat\":\"CycloneDX\"}");
        Files.writeString(dir.resolve("bom.xml"), "<bom/>");
        changelog = dir.resolve("CHANGELOG.md");
        Files.writeString(changelog, """
                # Changelog

                ## [Unreleased]

                - not yet released

                ## [%s] - 2026-11-28

                ### Added

                - the first release candidate

                ## [0.9.0] - 2026-01-01

                - an older one
                """.formatted(VERSION));
    }

    @Test
    void assemble_standIns_writesEveryArtefactAndNothingElse() throws Exception {
        Result r = assemble(dir.resolve("image.tar"));

        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("record it in RELEASES: " + VERSION + " " + COMMIT + " " + digest);
        List<String> written;
        try (Stream<Path> files = Files.walk(out)) {
            written = files.filter(Files::isRegularFile)
                    .map(p -> out.relativize(p).toString())
                    .sorted()
                    .toList();
        }
        assertThat(written).containsExactlyElementsOf(ARTEFACTS);
        assertThat(Files.readString(out.resolve("image-digest.txt")))
                .isEqualTo("registry.example.internal/meshguard/meshguard@" + digest + "\n");
    }

    @Test
    void assemble_checksums_coverEveryOtherArtefactAndMatch() throws Exception {
        assertThat(assemble(dir.resolve("image.tar")).exit()).isZero();

        List<String> covered = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("SHA256SUMS"))) {
            String[] parts = line.split(" {2}", 2);
            assertThat(parts[0]).as(parts[1]).isEqualTo(sha256(Files.readAllBytes(out.resolve(parts[1]))));
            covered.add(parts[1]);
        }
        assertThat(covered)
                .containsExactlyInAnyOrderElementsOf(
                        ARTEFACTS.stream().filter(a -> !a.equals("SHA256SUMS")).toList());
    }

    @Test
    void assemble_manifests_runTheImageByItsDigestAlone() throws Exception {
        assertThat(assemble(dir.resolve("image.tar")).exit()).isZero();

        List<String> images = new ArrayList<>();
        for (String manifest :
                ARTEFACTS.stream().filter(a -> a.startsWith("manifests/")).toList()) {
            Files.readAllLines(out.resolve(manifest)).stream()
                    .map(String::trim)
                    .filter(l -> l.startsWith("image:") && l.contains("meshguard"))
                    .forEach(images::add);
        }
        // the three servers, the migrate Job, the replay Job, the canary and a zone's three at least
        assertThat(images).hasSizeGreaterThanOrEqualTo(9);
        assertThat(images).allSatisfy(line -> assertThat(line)
                .isEqualTo("image: registry.example.internal/meshguard/meshguard@" + digest));
    }

    @Test
    void assemble_zoneManifests_runTheZoneControllerAndServersByTheDigest() throws Exception {
        assertThat(assemble(dir.resolve("image.tar")).exit()).isZero();

        // a zone cluster installs overlays/zone, not the central install: its controller is a workload of its own
        Map<String, String> images = new TreeMap<>();
        Path zone = out.resolve("manifests/istio-overlays-zone.yaml");
        for (SourcedDocument doc : YamlDocuments.parse(zone.toString(), Files.readString(zone))) {
            if (!List.of("StatefulSet", "Deployment").contains(doc.kind())) {
                continue;
            }
            for (com.fasterxml.jackson.databind.JsonNode c :
                    doc.node().path("spec").path("template").path("spec").path("containers")) {
                if (c.path("image").asText().contains("meshguard")) {
                    images.put(
                            doc.name() + "/" + c.path("name").asText(),
                            c.path("image").asText());
                }
            }
        }
        assertThat(images.keySet())
                .anyMatch(k -> k.startsWith("meshguard-xds-zone/"))
                .anyMatch(k -> k.startsWith("meshguard-extauthz/"))
                .anyMatch(k -> k.startsWith("meshguard-dlp/"));
        assertThat(images.values()).allSatisfy(image -> assertThat(image)
                .isEqualTo("registry.example.internal/meshguard/meshguard@" + digest));
    }

    @Test
    void assemble_notes_areTheVersionsSectionAlone() throws Exception {
        assertThat(assemble(dir.resolve("image.tar")).exit()).isZero();

        assertThat(Files.readString(out.resolve("RELEASE-NOTES.md")))
                .isEqualTo("## [" + VERSION + "] - 2026-11-28\n\n### Added\n\n- the first release candidate\n");
    }

    @Test
    void assemble_provenance_namesCommitImageJdkAndPackages() throws Exception {
        assertThat(assemble(dir.resolve("image.tar")).exit()).isZero();

        String provenance = Files.readString(out.resolve("provenance.json"));
        String jdk = Files.readAllLines(Path.of(System.getProperty("java.home"), "release")).stream()
                .filter(l -> l.startsWith("JAVA_RUNTIME_VERSION="))
                .map(l -> l.substring("JAVA_RUNTIME_VERSION=".length()).replace("\"", ""))
                .findFirst()
                .orElseThrow();
        assertThat(provenance)
                .contains("\"gitCommit\": \"" + COMMIT + "\"")
                .contains("\"sha256\": \"" + digest.substring("sha256:".length()) + "\"")
                .contains("\"version\": \"" + jdk + "\"")
                .contains("pkg:deb/debian/libc6@2.36-9+deb12u10?arch=amd64")
                .contains("\"name\": \"" + NAME + ".jar\", \"digest\": {\"sha256\": \""
                        + sha256("a jar".getBytes(StandardCharsets.UTF_8)) + "\"}");
        // one JSON document: the statement a bank attests with cosign
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(provenance)
                        .path("predicateType")
                        .asText())
                .isEqualTo("https://slsa.dev/provenance/v1");
    }

    @Test
    void assemble_changelogWithoutTheVersion_refusedAndNothingWritten() throws Exception {
        Files.writeString(changelog, "# Changelog\n\n## [Unreleased]\n\n- everything\n");

        Result r = assemble(dir.resolve("image.tar"));

        assertThat(r.exit()).isNotZero();
        assertThat(r.output()).contains("no non-empty section '## [" + VERSION + "]'");
        assertThat(out).doesNotExist();
    }

    @Test
    void assemble_archiveThatIsNotAnImage_refusedAndNothingWritten() throws Exception {
        Files.writeString(dir.resolve("readme"), "not an image");
        run(List.of("tar", "-C", dir.toString(), "-cf", dir.resolve("other.tar").toString(), "readme"));

        Result r = assemble(dir.resolve("other.tar"));

        assertThat(r.exit()).isNotZero();
        assertThat(r.output()).contains("is not an OCI image layout archive");
        assertThat(out).doesNotExist();
    }

    @Test
    void assemble_missingSbom_refused() throws Exception {
        Files.delete(dir.resolve("bom.json"));

        Result r = assemble(dir.resolve("image.tar"));

        assertThat(r.exit()).isNotZero();
        assertThat(r.output()).contains("missing or empty input: " + dir.resolve("bom.json"));
        assertThat(out).doesNotExist();
    }

    private Result assemble(Path image) throws IOException, InterruptedException {
        return run(List.of(
                "bash",
                RepoPaths.root().resolve("scripts/release-assemble").toString(),
                "--version",
                VERSION,
                "--commit",
                COMMIT,
                "--tag",
                "v" + VERSION,
                "--jar",
                dir.resolve("meshguard.jar").toString(),
                "--image",
                image.toString(),
                "--packages",
                dir.resolve("image-packages.tsv").toString(),
                "--bom-json",
                dir.resolve("bom.json").toString(),
                "--bom-xml",
                dir.resolve("bom.xml").toString(),
                "--changelog",
                changelog.toString(),
                "--java-home",
                System.getProperty("java.home"),
                "--out",
                out.toString()));
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        try (OutputStream sink = output) {
            p.getInputStream().transferTo(sink);
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command + " did not finish in 120 s");
        }
        return new Result(p.exitValue(), output.toString(StandardCharsets.UTF_8));
    }

    private static String sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
