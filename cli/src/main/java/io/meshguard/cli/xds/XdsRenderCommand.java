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
import io.meshguard.xds.validate.GatewayEgress;
import io.meshguard.xds.validate.Problem;
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

    @Option(
            names = "--egress-policy",
            description = "With --file: print instead the gateway's NetworkPolicy for its upstreams outside the cluster"
                    + " (meshguard-gateway-upstreams: one ipBlock rule per port), for kubectl apply.")
    boolean egressPolicy;

    @Option(
            names = "--cluster-cidr",
            description = "The cluster's pod and Service ranges, as xds.egress.cluster_cidrs (repeatable).")
    List<String> clusterCidrs = new ArrayList<>();

    @Option(
            names = "--external-host",
            description = "An outside DNS name pinned to its addresses, host=CIDR|CIDR, as xds.egress.external_hosts"
                    + " (repeatable).")
    List<String> externalHosts = new ArrayList<>();

    @Option(names = "--namespace", defaultValue = "meshguard", description = "The gateway's namespace.")
    String namespace;

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
            if (egressPolicy) {
                return printEgressPolicy(config);
            }
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
        if (egressPolicy) {
            System.err.println("--egress-policy renders a declarative file: give it with --file");
            return 1;
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

    /**
     * The policy for every upstream of the file (the group's gateway pods reach all of them), after the same check the
     * controller makes at publish: an outside DNS name without pinned addresses is refused (MG-UPSTREAM-019).
     */
    private int printEgressPolicy(GatewayConfig config) throws Exception {
        GatewayEgress egress;
        try {
            egress = GatewayEgress.parse(clusterCidrs, externalHosts);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 1;
        }
        if (!egress.checked()) {
            System.err.println("--egress-policy needs --cluster-cidr (the cluster's pod and Service ranges)");
            return 1;
        }
        List<Problem> problems = egress.problems(config);
        if (!problems.isEmpty()) {
            problems.forEach(p -> System.err.println(file + ": " + p.path() + ": " + p.message() + " ["
                    + p.code().code() + "]"));
            return 1;
        }
        System.out.println(ConfigJson.mapper()
                .writerWithDefaultPrettyPrinter()
                .writeValueAsString(egress.networkPolicy(config, namespace)));
        return 0;
    }
}
