package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.security.v1.PeerAuthentication;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.dlpserver.BodyScan;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What the install documents tell an operator to type works against what the manifests ship, and the statements
 * the Istio/Envoy review found wrong stay corrected (../shared/reference/istio-envoy-fidelity-review.md).
 */
class InstallDocsTest {
    private static final List<String> DOCS = java.util.stream.Stream.concat(
                    java.util.stream.Stream.of(
                            "README.md", "manifests/istio/README.md", "docs/threat-model.md", "docs/install.md"),
                    RepoPaths.operatorGuide().stream()
                            .map(page -> RepoPaths.root().relativize(page).toString()))
            .toList();

    private static String read(String doc) throws Exception {
        return Files.readString(RepoPaths.root().resolve(doc));
    }

    @Test
    void everyPortForward_namesAWorkloadOfThatKind() throws Exception {
        // Review item C4: `port-forward deploy/meshguard-extauthz` fails, extauthz is a StatefulSet.
        Manifests manifests = Manifests.sources();
        Map<String, String> kinds = Map.of(
                "deploy",
                "Deployment",
                "deployment",
                "Deployment",
                "statefulset",
                "StatefulSet",
                "sts",
                "StatefulSet",
                "svc",
                "Service",
                "service",
                "Service");
        Pattern forward = Pattern.compile("port-forward\\s+(?:-n\\s+\\S+\\s+)?([a-z]+)/(meshguard-[a-z-]+)");
        int seen = 0;
        for (String doc : DOCS) {
            Matcher m = forward.matcher(read(doc));
            while (m.find()) {
                seen++;
                String kind = kinds.get(m.group(1));
                assertThat(kind).as("%s: %s", doc, m.group()).isNotNull();
                assertThat(manifests.ofKind(kind).map(SourcedDocument::name))
                        .as("%s: %s", doc, m.group())
                        .contains(m.group(2));
            }
        }
        assertThat(seen).isPositive();
    }

    @Test
    void installSteps_needNoStandaloneKustomize() throws Exception {
        // Review item C5: `kustomize edit` needs the standalone binary; kubectl embeds only the build.
        for (String doc : java.util.stream.Stream.concat(DOCS.stream(), java.util.stream.Stream.of("deploy/README.md"))
                .toList()) {
            assertThat(read(doc)).as(doc).doesNotContain("kustomize edit");
        }
        for (Path file : YamlDocuments.filesUnder(RepoPaths.manifests())) {
            assertThat(Files.readString(file)).as("%s", file).doesNotContain("kustomize edit");
        }
    }

    @Test
    void docs_promiseNoExtProcMessageTimeout() throws Exception {
        // Review item A4: under FULL_DUPLEX_STREAMED Envoy starts no message timer, not even for headers
        // (source/extensions/filters/http/ext_proc/processor_state.cc); "504 after 2 s" cannot happen.
        Pattern promise = Pattern.compile("message_timeout`?:?\\s*[0-9]|504 \\(`message_timeout`\\)");
        for (String doc : DOCS) {
            assertThat(promise.matcher(read(doc)).find()).as(doc).isFalse();
        }
    }

    @Test
    void installEndsByProvingBothFiltersAreInAPodsInboundListener() throws Exception {
        // Review item B1: labels on a pod without a sidecar (or in ambient mode) protect nothing, silently.
        String readme = read("manifests/istio/README.md");
        String install = readme.substring(readme.indexOf("## Install"));
        String block =
                install.substring(install.indexOf("```sh") + 5, install.indexOf("```", install.indexOf("```sh") + 5));
        List<String> commands = block.lines()
                .map(String::trim)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
        List<String> lastTwo = commands.subList(commands.size() - 2, commands.size());
        assertThat(lastTwo).allSatisfy(c -> assertThat(c)
                .startsWith("istioctl proxy-config listener")
                .contains("--port 15006")
                .contains("-o json")
                .contains("grep -c"));
        assertThat(lastTwo.get(0)).contains("envoy.filters.http.ext_authz");
        assertThat(lastTwo.get(1)).contains("envoy.filters.http.ext_proc");
        assertThat(block).contains("scripts/check-app-namespace.sh").contains("scripts/check-istio-version.sh");
    }

    @Test
    void appNamespaceKit_makesOnlyProtectedWorkloadsStrict() {
        // Review item A10: a namespace-wide `default` policy broke non-mesh callers of unlabelled services and
        // silently replaced an existing one.
        List<PeerAuthentication> kit = Manifests.sources()
                .models("PeerAuthentication", PeerAuthentication.class)
                .filter(p -> p.getMetadata().getNamespace() == null)
                .toList();
        assertThat(kit).singleElement().satisfies(p -> {
            assertThat(p.getMetadata().getName()).isNotEqualTo("default");
            assertThat(p.getSpec().getSelector().getMatchLabels()).containsEntry("meshguard.io/protected", "true");
            assertThat(p.getSpec().getMtls().getMode().name()).isEqualTo("STRICT");
        });
    }

    @Test
    void threatModel_coversPortForwardWebSocketAndGrpc() throws Exception {
        String model = read("docs/threat-model.md");
        String boundaries = model.substring(model.indexOf("## 2."), model.indexOf("## 3."));
        // Review item C9: port-forward enters the pod's network namespace and skips the sidecar's ALLOW policy.
        assertThat(boundaries).contains("port-forward").contains("pods/portforward");
        String outside = model.substring(model.indexOf("## 6."));
        // Review items B2, B3: WebSocket frames pass the DLP server unscanned unless blocked, and the threat model
        // names
        // the dlp.yaml option that decides it; gRPC messages are scanned frame by frame, and what is
        // still not scanned (grpc-web-text, other compressions) is named.
        assertThat(outside)
                .contains("WebSocket")
                .contains("gRPC")
                .containsPattern("websocket: block \\| pass")
                .contains("grpc: pass")
                .contains("frame by frame")
                .contains("grpc-web-text");
    }

    @Test
    void smokeTestCard_isMaskedByTheShippedDlpPolicy() throws Exception {
        // A smoke test with a card the shipped policy allow-lists (4111 1111 1111 1111) can never pass: the card the
        // install guide names must be one the shipped policies/dlp.yaml masks.
        Matcher card = Pattern.compile("test card number[^`]*`([0-9 ]{15,23})`|allow-list[^`]*\\(`([0-9 ]{15,23})`")
                .matcher(read("docs/install.md").replace('\n', ' '));
        assertThat(card.find())
                .as("docs/install.md names the smoke test's card number")
                .isTrue();
        String number = card.group(1) != null ? card.group(1) : card.group(2);
        String body = "{\"card\":\"" + number + "\"}";
        List<String> findings = new ArrayList<>();
        BodyScan scan = BodyScan.open(
                DlpPolicyParser.parse(RepoPaths.policies().resolve("dlp.yaml")),
                Direction.RESPONSE,
                "api.example.com",
                "/payments/v2/transfers",
                "application/json",
                "",
                ValueHasher.forTenant(ValueHasher.ephemeralMasterKey(), "default"),
                (finding, location) -> findings.add(finding.detector()));
        byte[] out = scan.write(body.getBytes(StandardCharsets.UTF_8));
        String seen = new String(out, StandardCharsets.UTF_8) + new String(scan.finish(), StandardCharsets.UTF_8);
        scan.close();
        assertThat(findings).as("findings for %s", number).contains("card");
        assertThat(seen).doesNotContain(number).doesNotContain(number.replace(" ", ""));
    }
}
