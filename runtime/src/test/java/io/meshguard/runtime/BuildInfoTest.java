package io.meshguard.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.Test;

class BuildInfoTest {

    @Test
    void current_isTheVersionThePomDeclares_andACommit() throws Exception {
        BuildInfo build = BuildInfo.current();

        assertThat(build.version()).isEqualTo(pomVersion());
        // A checkout builds with git: the abbreviated commit, "-dirty" while the tree has changes.
        assertThat(build.commit()).matches("[0-9a-f]{12,40}(-dirty)?|unknown");
        assertThat(build.java()).isEqualTo(System.getProperty("java.runtime.version"));
    }

    @Test
    void fromResource_stampedValues_areRead() {
        BuildInfo build = BuildInfo.fromResource(stream("version=1.2.3\ncommit=0123456789ab\n"), "21.0.5+11");

        assertThat(build).isEqualTo(new BuildInfo("1.2.3", "0123456789ab", "21.0.5+11"));
        assertThat(build.describe()).isEqualTo("1.2.3 (commit 0123456789ab, Java 21.0.5+11)");
    }

    @Test
    void fromResource_unfilteredOrEmptyOrAbsent_readsUnknown() {
        assertThat(BuildInfo.fromResource(stream("version=${project.version}\ncommit=\n"), "21"))
                .isEqualTo(new BuildInfo("unknown", "unknown", "21"));
        assertThat(BuildInfo.fromResource(null, "21")).isEqualTo(new BuildInfo("unknown", "unknown", "21"));
    }

    private static ByteArrayInputStream stream(String text) {
        return new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    /** runtime/pom.xml's parent version: the one version every module and artifact carries. */
    static String pomVersion() throws Exception {
        var pom = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(Path.of("pom.xml").toFile());
        return XPathFactory.newInstance()
                .newXPath()
                .evaluate("/project/parent/version", pom)
                .trim();
    }
}
