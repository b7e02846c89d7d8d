package io.meshguard.xds.model;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;

/**
 * Which data plane serves a gateway group's revisions: meshguard's own Envoy gateway over ADS, or a cluster's Envoy
 * Gateway from Gateway API resources (docs/envoy-gateway.md). Stored with the group ({@code gateway_group.template_kind})
 * and published with each revision, so a rollback restores the kind the revision was published with.
 */
public enum TemplateKind {
    /** meshguard's edge gateway, configured over xDS (the default). */
    MESHGUARD("meshguard"),
    /** Envoy Gateway: Gateway, HTTPRoute, SecurityPolicy and EnvoyExtensionPolicy, checked against the CRDs. */
    ENVOY_GATEWAY("envoy-gateway");

    private final String wire;

    TemplateKind(String wire) {
        this.wire = wire;
    }

    /** The name in JSON, YAML and the database column. */
    @JsonValue
    public String wire() {
        return wire;
    }

    /** The kind named {@code name} ({@code meshguard}, {@code envoy-gateway}); anything else is refused, never defaulted. */
    @JsonCreator
    public static TemplateKind of(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        return Arrays.stream(values())
                .filter(k -> k.wire.equals(n))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException(
                        "unknown gateway template kind '" + name + "'; known: meshguard, envoy-gateway"));
    }
}
