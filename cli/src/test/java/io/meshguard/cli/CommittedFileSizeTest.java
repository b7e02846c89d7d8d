package io.meshguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.meshguard.testing.IntegrationTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Nothing large is committed by accident (a 16 MiB file of zeros once was): every file git tracks is at most 1 MiB,
 * except test resources, where a large fixture can be deliberate. Skips where the sources are not a git checkout
 * (a source tarball) or git is not installed.
 */
@IntegrationTest
class CommittedFileSizeTest {
    private static final long LIMIT = 1024 * 1024;

    @Test
    void noTrackedFileOver1MiB_outsideTestResources() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        List<String> tracked = gitLsFiles(root);
        assumeTrue(!tracked.isEmpty(), "not a git checkout (or no git): nothing to check");

        List<String> tooLarge = new ArrayList<>();
        for (String name : tracked) {
            Path file = root.resolve(name);
            if (name.contains("/src/test/resources/") || !Files.isRegularFile(file)) {
                continue; // test fixtures may be large on purpose; a deleted but staged file is not there
            }
            long size = Files.size(file);
            if (size > LIMIT) {
                tooLarge.add(name + " (" + size + " bytes)");
            }
        }
        assertThat(tooLarge)
                .as("files over 1 MiB committed outside src/test/resources")
                .isEmpty();
    }

    private static List<String> gitLsFiles(Path root) throws InterruptedException {
        Process git;
        try {
            git = new ProcessBuilder("git", "-C", root.toString(), "ls-files", "-z")
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException noGit) {
            return List.of();
        }
        byte[] out;
        try {
            out = git.getInputStream().readAllBytes();
        } catch (IOException e) {
            return List.of();
        }
        if (!git.waitFor(60, TimeUnit.SECONDS) || git.exitValue() != 0) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        for (String name : new String(out, StandardCharsets.UTF_8).split("\0")) {
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        return names;
    }
}
