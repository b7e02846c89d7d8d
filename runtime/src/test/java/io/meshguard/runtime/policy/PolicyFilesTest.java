package io.meshguard.runtime.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolicyFilesTest {
    @TempDir
    Path dir;

    @Test
    void read_singleFile_namesItByFileName() throws IOException {
        Path file = Files.writeString(dir.resolve("dlp.yaml"), "rules: []\n");

        assertThat(PolicyFiles.read(file)).containsExactly(new PolicySource("dlp.yaml", "rules: []\n"));
    }

    @Test
    void read_directory_followsSymlinksAndSkipsDotEntries() throws IOException {
        Path real = Files.createDirectory(dir.resolve("..2026_11_21"));
        Files.writeString(real.resolve("authz.yaml"), "a");
        Files.createSymbolicLink(dir.resolve("..data"), real.getFileName());
        Files.createSymbolicLink(dir.resolve("authz.yaml"), Path.of("..data/authz.yaml"));
        Files.writeString(dir.resolve(".editor-swap.yaml"), "skip");

        assertThat(PolicyFiles.read(dir)).containsExactly(new PolicySource("authz.yaml", "a"));
    }

    @Test
    void read_missing_isNoSuchFile() {
        assertThatThrownBy(() -> PolicyFiles.read(dir.resolve("nope.yaml"))).isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void read_danglingSymlinkInDirectory_isSkipped() throws IOException {
        Files.createSymbolicLink(dir.resolve("gone.yaml"), Path.of("missing-target.yaml"));
        Files.writeString(dir.resolve("kept.yaml"), "k");

        assertThat(PolicyFiles.read(dir)).extracting(PolicySource::fileName).containsExactly("kept.yaml");
    }

    @Test
    void versionOf_dependsOnNamesAndContent() {
        String base = LoadedPolicy.versionOf(List.of(new PolicySource("a.yaml", "x"), new PolicySource("b.yaml", "y")));

        assertThat(base).hasSize(LoadedPolicy.VERSION_LENGTH);
        assertThat(LoadedPolicy.versionOf(List.of(new PolicySource("a.yaml", "x"), new PolicySource("b.yaml", "y"))))
                .isEqualTo(base);
        assertThat(LoadedPolicy.versionOf(List.of(new PolicySource("a.yaml", "xy"), new PolicySource("b.yaml", ""))))
                .isNotEqualTo(base);
        assertThat(LoadedPolicy.versionOf(List.of(new PolicySource("c.yaml", "x"), new PolicySource("b.yaml", "y"))))
                .isNotEqualTo(base);
    }

    @Test
    void policyError_printsFileAndLine() {
        assertThat(new PolicyError("authz.yaml", 3, "unknown key 'rulez'"))
                .hasToString("authz.yaml:3: unknown key 'rulez'");
        assertThat(new PolicyError("policies", 0, "no files")).hasToString("policies: no files");
        assertThat(new PolicyInvalidException(
                        List.of(new PolicyError("a.yaml", 1, "x"), new PolicyError("b.yaml", 2, "y"))))
                .hasMessage("a.yaml:1: x\nb.yaml:2: y");
    }
}
