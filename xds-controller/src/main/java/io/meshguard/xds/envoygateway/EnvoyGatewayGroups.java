package io.meshguard.xds.envoygateway;

import io.meshguard.envoygateway.render.EnvoyGatewayPublishCheck;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.envoygateway.render.RenderedResources;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.TemplateKind;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The gateway groups whose stored template kind is {@code envoy-gateway} ({@link GatewayGroup#templateKind()}, the
 * kind in the configuration being published, not the draft's): every publish, product publish and rollback of
 * one of them is rendered and checked against the bundled Gateway API and Envoy Gateway CRDs (schemas and CEL rules)
 * before its revision is stored, so a revision the cluster's API server would refuse is refused here first
 * ({@code MG-GROUP-006}), with the resource, the field and the rule in the message.
 */
public final class EnvoyGatewayGroups implements ConfigValidator.TemplateCheck {

    private final EnvoyGatewayPublishCheck check;

    public EnvoyGatewayGroups(EnvoyGatewayTemplate template) {
        this.check = new EnvoyGatewayPublishCheck(template);
    }

    @Override
    public List<Problem> problems(GatewayConfig config) {
        List<Problem> out = new ArrayList<>();
        Map<String, RenderedResources> renders = new TreeMap<>();
        for (GatewayGroup g : config.groups()) {
            if (g.templateKind() != TemplateKind.ENVOY_GATEWAY) {
                continue;
            }
            try {
                // the revision id is not known before it is stored; it only reaches a label, never validity
                renders.put(g.name(), check.render(EnvoyGatewayRevisions.of(config.slice(g.name()), g.name(), 0)));
            } catch (EnvoyGatewayPublishCheck.Refused e) {
                out.add(Problem.error(
                        ProblemCode.GROUP_ENVOY_GATEWAY_REFUSED, "groups[" + g.name() + "]", e.getMessage()));
            }
        }
        // every group renders into the template's one namespace: two groups' objects of one kind and name would take
        // each other's place at every apply, whichever tenants their routes belong to
        for (RenderedResources.Duplicate d : RenderedResources.duplicateNames(renders)) {
            for (String group : d.groups()) {
                out.add(Problem.error(ProblemCode.GROUP_ENVOY_GATEWAY_REFUSED, "groups[" + group + "]", d.toString()));
            }
        }
        return out;
    }

    @Override
    public Optional<RenderedResources> rendered(GatewayConfig config, String group, long revision) {
        return config.group(group)
                .filter(g -> g.templateKind() == TemplateKind.ENVOY_GATEWAY)
                .map(g -> check.render(EnvoyGatewayRevisions.of(config.slice(group), group, revision)));
    }
}
