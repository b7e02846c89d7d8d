package io.meshguard.cli;

import io.meshguard.access.AdminAccessSettings;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.db.DbConfig;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.xds.XdsSettings;
import java.util.Collection;
import java.util.List;

/**
 * Every configuration key this build reads, grouped as docs/configuration.md shows them. ConfigReferenceTest
 * checks that the page's generated part is exactly these tables, so a new or changed key cannot go undocumented. A
 * server adds its own section here when it lands.
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
                new Section(
                        "Shared by every server: gRPC and HTTP listeners",
                        ConfigSchema.builder()
                                .addAll(withoutPorts(
                                        GrpcServerSettings.configGroup(0).keys()))
                                .addAll(withoutPorts(
                                        HttpServerSettings.configGroup(0).keys()))
                                .build()),
                new Section(
                        "Shared by every server that uses PostgreSQL",
                        ConfigSchema.builder().add(new DbConfig("meshguard")).build()),
                new Section(
                        "Audit writer, spool, retention and access-log receiver (`audit.*`)",
                        ConfigSchema.builder()
                                .addAll(AuditConfig.configGroup().keys())
                                .build()),
                new Section(
                        "Admin trail checkpoints, xds-controller (`audit.admin_trail.checkpoint.*`)",
                        ConfigSchema.builder()
                                .add(io.meshguard.audit.trail.TrailCheckpointSettings.configGroup())
                                .build()),
                new Section(
                        "extauthz-server (`meshguard extauthz --config FILE`)",
                        ConfigSchema.builder()
                                .addAll(ownKeys(ExtAuthzConfig.SCHEMA.keys()))
                                .build()),
                new Section(
                        "extproc-dlp-server (`meshguard dlp --config FILE`)",
                        ConfigSchema.builder()
                                .addAll(ownKeys(DlpServerSettings.schema().keys()))
                                .build()),
                new Section(
                        "xds-controller (`meshguard xds --config FILE`)",
                        ConfigSchema.builder()
                                .addAll(XdsSettings.configGroup().keys())
                                .build()),
                new Section(
                        "Admin plane access, xds-controller and extauthz (`admin.*`)",
                        ConfigSchema.builder()
                                .addAll(AdminAccessSettings.configGroup().keys())
                                .build()),
                new Section(
                        "Catalogue API on the xds-controller's admin port (`catalog.*`)",
                        ConfigSchema.builder()
                                .addAll(io.meshguard.catalog.api.CatalogSettings.configGroup()
                                        .keys())
                                .build()),
                new Section(
                        "API key limits of the admin API and portal, xds-controller and extauthz"
                                + " (`apikey.max_live_keys_per_tenant`, `apikey.created_per_tenant_per_hour`)",
                        ConfigSchema.builder()
                                .addAll(io.meshguard.catalog.apikey.ApiKeyLimits.configGroup()
                                        .keys())
                                .build()),
                new Section(
                        "Console on the xds-controller's admin port (`console.*`)",
                        ConfigSchema.builder()
                                .addAll(io.meshguard.console.ConsoleConfig.configGroup()
                                        .keys())
                                .build()),
                new Section(
                        "Canaries (`meshguard canary --config FILE`, `canary.*`; status port 9104)",
                        ConfigSchema.builder()
                                .addAll(io.meshguard.cli.canary.CanarySettings.configGroup()
                                        .keys())
                                .build()),
                new Section(
                        "Zone mode: central's zone port (`xds.zone_hub.*`) and a zone controller (`meshguard zone"
                                + " --config FILE`, `zone.*`; it also reads the xds-controller's `xds.ads.*` and filter keys)",
                        ConfigSchema.builder()
                                .addAll(io.meshguard.xds.zone.ZoneConfig.hub().keys())
                                .addAll(io.meshguard.xds.zone.ZoneConfig.zone().keys())
                                .build()));
    }

    /** The whole reference as Markdown, in the page's order. */
    static String markdown() {
        StringBuilder text = new StringBuilder();
        for (Section section : sections()) {
            text.append(section.markdown()).append('\n');
        }
        return text.toString();
    }

    // The grpc.*, http.*, db.* and admin.* keys and the API key limits are documented once, in the shared sections.
    private static List<ConfigKey<?>> ownKeys(Collection<ConfigKey<?>> keys) {
        return keys.stream()
                .filter(key -> !key.name().startsWith("grpc.")
                        && !key.name().startsWith("http.")
                        && !key.name().startsWith("db.")
                        && !key.name().startsWith("admin.")
                        && !io.meshguard.catalog.apikey.ApiKeyLimits.configGroup()
                                .keys()
                                .contains(key))
                .toList();
    }

    // Ports differ per server; the configuration page's ports table lists them.
    private static List<ConfigKey<?>> withoutPorts(List<ConfigKey<?>> keys) {
        return keys.stream().filter(key -> !key.name().endsWith(".port")).toList();
    }
}
