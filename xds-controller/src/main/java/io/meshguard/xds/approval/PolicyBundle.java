package io.meshguard.xds.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.meshguard.runtime.policy.PolicyFiles;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyParser;
import io.meshguard.runtime.policy.PolicyReload;
import io.meshguard.runtime.policy.PolicySource;
import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The files of one policy exactly as a server reads them (name and text, in its reading order), and their digest: the
 * same SHA-256 extauthz computes of the files it loads ({@link PolicyReload#digestOf(List)}), so an approval of a
 * bundle names exactly what may be enforced.
 */
public record PolicyBundle(List<PolicySource> files) {
    public PolicyBundle {
        files = List.copyOf(files);
        if (files.isEmpty()) {
            throw new IllegalArgumentException("a policy bundle has at least one file");
        }
    }

    /** The files at {@code location} (a file or a directory of {@code *.yaml}), read as the servers read them. */
    public static PolicyBundle read(Path location) throws IOException {
        return new PolicyBundle(PolicyFiles.read(location));
    }

    /**
     * The files read by {@code parser}. For files validated when they were requested (a report's replay): an invalid
     * bundle here is a bug, not a user's mistake.
     */
    public <T> T parsed(PolicyParser<T> parser) {
        try {
            return parser.parse(files);
        } catch (PolicyInvalidException e) {
            throw new IllegalStateException("requested policy files no longer parse: " + e.getMessage(), e);
        }
    }

    public String digest() {
        return PolicyReload.digestOf(files);
    }

    /** {@code [{"file": name, "text": content}, ...]}: what a request stores and the admin API takes. */
    public ArrayNode toJson() {
        ArrayNode out = ConfigJson.mapper().createArrayNode();
        for (PolicySource f : files) {
            out.addObject().put("file", f.fileName()).put("text", f.text());
        }
        return out;
    }

    /** Reads {@link #toJson()}; a malformed bundle is an {@link IllegalArgumentException} naming what is wrong. */
    public static PolicyBundle fromJson(JsonNode json) {
        if (json == null || !json.isArray() || json.isEmpty()) {
            throw new IllegalArgumentException("files must be a non-empty array of {\"file\", \"text\"}");
        }
        List<PolicySource> files = new ArrayList<>();
        for (JsonNode f : json) {
            if (!f.path("file").isTextual() || !f.path("text").isTextual()) {
                throw new IllegalArgumentException("each file needs a \"file\" name and a \"text\"");
            }
            String name = f.get("file").asText();
            if (name.isBlank() || name.contains("..") || name.startsWith("/")) {
                throw new IllegalArgumentException("file names are relative and plain, got '" + name + "'");
            }
            files.add(new PolicySource(name, f.get("text").asText()));
        }
        return new PolicyBundle(files);
    }
}
