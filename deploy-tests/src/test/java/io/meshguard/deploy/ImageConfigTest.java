package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPath;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/**
 * The image the cli module's {@code image} profile builds (Jib's configuration in cli/pom.xml) fits the manifests
 * that run it: their user, their ports, their image name. Checked on every build from the configuration alone, so a
 * laptop's {@code ./mvnw verify}, which builds no image, still catches a manifest edit the image would not follow;
 * e2e's ImageTest checks the built image itself under {@code -Pimage}.
 */
class ImageConfigTest {
    private static final String JIB = "/project/profiles/profile[id='image']/build/plugins/plugin"
            + "[artifactId='jib-maven-plugin']/configuration/";

    @Test
    void imageUser_isTheManifestsRunAsUser_andNotRoot() throws Exception {
        String user = jib("container/user");
        assertThat(user).matches("[1-9][0-9]*:[0-9]+");
        Set<String> manifestUsers = new TreeSet<>();
        Manifests.sources().workloads().filter(ImageConfigTest::runsMeshguard).forEach(w -> {
            PodSecurityContext sc = w.template().getSpec().getSecurityContext();
            manifestUsers.add(sc.getRunAsUser() + ":" + sc.getRunAsGroup());
            assertThat(sc.getRunAsNonRoot()).as(w.name() + " runAsNonRoot").isTrue();
        });
        assertThat(manifestUsers).containsExactly(user);
    }

    @Test
    void exposedPorts_areTheContainerPortsOfTheManifests() throws Exception {
        Set<Integer> manifestPorts = new TreeSet<>();
        // the install and the opt-in canary (manifests/istio/canary), which runs the same image with its status port
        Manifests.under("base", "app-namespace", "canary")
                .workloads()
                .filter(ImageConfigTest::runsMeshguard)
                .flatMap(w -> w.template().getSpec().getContainers().stream())
                .filter(c -> "meshguard".equals(c.getImage()))
                .flatMap(c -> c.getPorts().stream())
                .map(ContainerPort::getContainerPort)
                .forEach(manifestPorts::add);
        Set<Integer> exposed = new TreeSet<>();
        for (String port : jibList("container/ports/port")) {
            exposed.add(Integer.parseInt(port));
        }
        assertThat(exposed).isEqualTo(manifestPorts);
    }

    @Test
    void imageName_isWhatKustomizeMaps_taggedWithThePomVersion() throws Exception {
        assertThat(jib("to/image")).isEqualTo("meshguard/meshguard:${project.version}");
        String base = Files.readString(RepoPaths.manifests().resolve("base/kustomization.yaml"));
        assertThat(base).contains("newName: registry.example.internal/meshguard/meshguard");
        assertThat(jib("from/image"))
                .as("nothing is pulled (docs/install.md, section 2)")
                .isEqualTo("scratch");
        assertThat(jibList("container/entrypoint/arg")).first().isEqualTo("/opt/java/bin/java");
        assertThat(Files.readString(RepoPaths.root().resolve("deploy/image-rootfs.sh")))
                .as("the runtime the entrypoint names is the one the script links")
                .contains("--output \"$out/opt/java\"");
    }

    private static boolean runsMeshguard(Workload w) {
        List<Container> containers = w.template().getSpec().getContainers();
        return containers.stream().anyMatch(c -> "meshguard".equals(c.getImage()));
    }

    private static Document cliPom() throws Exception {
        return DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(RepoPaths.root().resolve("cli/pom.xml").toFile());
    }

    private static String jib(String path) throws Exception {
        return XPathFactory.newInstance()
                .newXPath()
                .evaluate(JIB + path, cliPom())
                .trim();
    }

    private static List<String> jibList(String path) throws Exception {
        XPath xpath = XPathFactory.newInstance().newXPath();
        NodeList nodes = (NodeList) xpath.evaluate(JIB + path, cliPom(), XPathConstants.NODESET);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add(nodes.item(i).getTextContent().trim());
        }
        return out;
    }
}
