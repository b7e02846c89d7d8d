package io.meshguard.cli.xds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.envoygateway.render.RenderedResources;
import io.meshguard.xds.envoygateway.EnvoyGatewayGroups;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.TemplateKind;
import io.meshguard.xds.snapshot.EnvoyJson;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code meshguard xds render --group G [--revision R]}: the exact resources a group's nodes get, as Envoy JSON — or,
 * for a group of template kind {@code envoy-gateway}, the Gateway API and Envoy Gateway resources its cluster applies,
 * as the YAML {@code kubectl} takes — from a running controller's published revisions, or offline from a declarative
 * file with {@code --file}.
 */
@Command(
        name = "render",
        mixinStandardHelpOptions = true,
        description = "Print a gateway group's xDS resources (listeners, routes, clusters, endpoints) as Envoy JSON;"
                + " an envoy-gateway group's Gateway API resources as YAML.")
public final class XdsRenderCommand implements Callable<Integer> {
    @Option(names = "--group", required = true, description = "Gateway group.")
    String group;

    @Option(names = "--revision", description = "Published revision (default: the newest).")
    Long revision;

    @Option(names = "--file", description = "Render this declarative file offline instead of asking a controller.")
    Path file;

    @Mixin
    AdminOptions admin;

    @Override
    public Integer call() throws Exception {
        if (file != null) {
            Optional<GatewayConfig> read = GatewayFile.readValid(file, System.err);
            if (read.isEmpty()) {
                return 1;
            }
            GatewayConfig config = read.get();
            if (config.group(group).isEmpty()) {
                System.err.println(file + ": no group '" + group + "'");
                return 1;
            }
            Optional<RenderedResources> applied =
                    new EnvoyGatewayGroups(EnvoyGatewayTemplate.defaults()).rendered(config, group, 0);
            if (applied.isPresent()) {
                System.out.print(applied.get().yaml());
                return 0;
            }
            System.out.println(ConfigJson.mapper()
                    .writerWithDefaultPrettyPrinter()
                    .writeValueAsString(
                            EnvoyJson.render(new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, group), 0)));
            return 0;
        }
        String path = "/render/" + group + (revision == null ? "" : "?revision=" + revision);
        HttpResponse<String> r = admin.client().send("GET", path, null);
        if (r.statusCode() != 200) {
            System.err.println("render failed (" + r.statusCode() + "): " + r.body());
            return 1;
        }
        JsonNode body = ConfigJson.mapper().readTree(r.body());
        if (body.path("template_kind").asText().equals(TemplateKind.ENVOY_GATEWAY.wire())) {
            List<ObjectNode> resources = new ArrayList<>();
            body.path("resources").forEach(n -> resources.add((ObjectNode) n));
            System.out.print(new RenderedResources(resources, List.of()).yaml());
            return 0;
        }
        System.out.println(ConfigJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(body));
        return 0;
    }
}
