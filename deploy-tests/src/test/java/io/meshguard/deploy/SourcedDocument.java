package io.meshguard.deploy;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One YAML document and where it came from, so that every failure names the file and the document.
 *
 * @param source file name or "rendered overlay" description
 * @param index zero-based position of the document in its file
 */
record SourcedDocument(String source, int index, JsonNode node) {
    String kind() {
        return node.path("kind").asText("");
    }

    String apiVersion() {
        return node.path("apiVersion").asText("");
    }

    String name() {
        return node.path("metadata").path("name").asText("");
    }

    String namespace() {
        return node.path("metadata").path("namespace").asText("");
    }

    /** {@code kind/name in source#index}, for messages. */
    String describe() {
        return kind() + "/" + name() + " in " + source + " (document " + (index + 1) + ")";
    }
}
