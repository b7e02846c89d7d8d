package io.meshguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ConfigReferenceTest {
    private static final Path README = Path.of("..", "README.md");

    @Test
    void readme_documentsEveryConfigKeyAsTheCodeDefinesIt() throws Exception {
        String readme = Files.readString(README);
        String expected = ConfigReference.markdown();
        // On failure, paste target/config-reference.md into the README's configuration section.
        Files.writeString(Path.of("target", "config-reference.md"), expected);

        for (ConfigReference.Section section : ConfigReference.sections()) {
            assertThat(readme).as("README section '%s'", section.title()).contains(section.markdown());
        }
    }
}
