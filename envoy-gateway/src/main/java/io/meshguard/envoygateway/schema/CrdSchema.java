package io.meshguard.envoygateway.schema;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One served version of one CustomResourceDefinition: its {@code openAPIV3Schema} as the API server enforces it.
 *
 * @param source the bundled file it was read from (for messages)
 */
public record CrdSchema(String group, String version, String kind, JsonNode openApiV3Schema, String source) {

    /** {@code group/version}, as a resource's {@code apiVersion} names it. */
    public String apiVersion() {
        return group + "/" + version;
    }
}
