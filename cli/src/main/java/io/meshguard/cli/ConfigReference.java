package io.meshguard.cli;

import io.meshguard.db.DbConfig;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import java.util.List;

/**
 * Every configuration key this build reads, grouped as the README's configuration reference shows them. A test
 * checks that the README holds exactly these tables, so a new or changed key cannot go undocumented. A server
 * adds its own section here when it lands.
 */
final class ConfigReference {
    private ConfigReference() {}

    /** One table of the reference. */
    record Section(String title, ConfigSchema schema) {
        String markdown() {
            return "### " + title + "\n\n" + schema.toMarkdownTable();
        }
    }

    static List<Section> sections() {
        return List.of(
                new Section("Shared by every server: gRPC and HTTP listeners", ConfigSchema.builder()
                        .addAll(withoutPorts(GrpcServerSettings.configGroup(0).keys()))
                        .addAll(withoutPorts(HttpServerSettings.configGroup(0).keys()))
                        .build()),
                new Section("Shared by every server that uses PostgreSQL", ConfigSchema.builder()
                        .add(new DbConfig("meshguard"))
                        .build()));
    }

    /** The whole reference as Markdown, in README order. */
    static String markdown() {
        StringBuilder text = new StringBuilder();
        for (Section section : sections()) {
            text.append(section.markdown()).append('\n');
        }
        return text.toString();
    }

    // Ports differ per server; the README's ports table lists them.
    private static List<ConfigKey<?>> withoutPorts(List<ConfigKey<?>> keys) {
        return keys.stream().filter(key -> !key.name().endsWith(".port")).toList();
    }
}
