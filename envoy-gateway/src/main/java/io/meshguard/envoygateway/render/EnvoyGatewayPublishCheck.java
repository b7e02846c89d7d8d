package io.meshguard.envoygateway.render;

import io.meshguard.envoygateway.schema.CrdSchemas;
import io.meshguard.envoygateway.schema.ResourceValidator;
import io.meshguard.envoygateway.schema.SchemaProblem;
import java.util.ArrayList;
import java.util.List;

/**
 * What meshguard does before a revision of an {@code envoy-gateway} group is applied: render it, and refuse it when the
 * renderer could not express a route or the Kubernetes API server would refuse any resource — against the Gateway API
 * standard and experimental channels (a cluster runs one of them; the renderer uses standard fields only) and Envoy
 * Gateway's CRDs, CEL rules included. Nothing reaches a cluster from a refused revision.
 */
public final class EnvoyGatewayPublishCheck {

    /** A revision the cluster's API server would refuse, or the renderer cannot express; the message says why. */
    public static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final List<String> reasons;

        Refused(String group, List<String> reasons) {
            super("gateway group " + group + " (template kind " + EnvoyGatewayRenderer.KIND
                    + ") cannot be rendered for Envoy Gateway " + CrdSchemas.ENVOY_GATEWAY_VERSION + " / Gateway API "
                    + CrdSchemas.GATEWAY_API_VERSION + ": " + String.join("; ", reasons));
            this.reasons = List.copyOf(reasons);
        }

        public List<String> reasons() {
            return reasons;
        }
    }

    private final EnvoyGatewayRenderer renderer;
    private final List<ResourceValidator> validators;

    public EnvoyGatewayPublishCheck(EnvoyGatewayTemplate template) {
        this.renderer = new EnvoyGatewayRenderer(template);
        this.validators = List.of(
                new ResourceValidator(CrdSchemas.bundled(CrdSchemas.Channel.STANDARD)),
                new ResourceValidator(CrdSchemas.bundled(CrdSchemas.Channel.EXPERIMENTAL)));
    }

    /**
     * The resources of {@code revision}, every one valid for the bundled CRDs.
     *
     * @throws Refused when the renderer refused a route or backend, or a resource fails its schema or a CEL rule
     */
    public RenderedResources render(GatewayRevision revision) {
        RenderedResources rendered = renderer.render(revision);
        List<String> reasons = new ArrayList<>(rendered.refusals());
        RenderedResources.duplicateNames(java.util.Map.of(revision.group(), rendered))
                .forEach(d -> reasons.add(d.toString()));
        for (SchemaProblem p : rendered.problems(validators)) {
            reasons.add(p.toString());
        }
        if (!reasons.isEmpty()) {
            throw new Refused(revision.group(), reasons);
        }
        return rendered;
    }

    public List<ResourceValidator> validators() {
        return validators;
    }
}
