package io.meshguard.envoygateway.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The upstream CRD schemas meshguard renders for, bundled from {@code deploy/schemas} (see its README for source, tag
 * and licence): the Gateway API of one release in one channel, and Envoy Gateway's policy CRDs of one release.
 */
public final class CrdSchemas {

    /** The Gateway API release whose CRDs are bundled. */
    public static final String GATEWAY_API_VERSION = "v1.6.1";

    /** The Envoy Gateway release whose CRDs are bundled (it pins {@link #GATEWAY_API_VERSION}). */
    public static final String ENVOY_GATEWAY_VERSION = "v1.9.0";

    private static final String ROOT = "/io/meshguard/envoygateway/schemas/";
    private static final List<String> GATEWAY_API_KINDS =
            List.of("gatewayclasses", "gateways", "httproutes", "referencegrants");
    private static final List<String> ENVOY_GATEWAY_KINDS = List.of(
            "backends",
            "backendtrafficpolicies",
            "clienttrafficpolicies",
            "envoyextensionpolicies",
            "securitypolicies");

    /** Gateway API release channel a cluster installed: experimental adds fields and kinds to standard. */
    public enum Channel {
        STANDARD,
        EXPERIMENTAL;

        String folder() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Channel channel;
    private final Map<String, CrdSchema> byApiVersionAndKind;

    private CrdSchemas(Channel channel, Map<String, CrdSchema> byApiVersionAndKind) {
        this.channel = channel;
        this.byApiVersionAndKind = Map.copyOf(byApiVersionAndKind);
    }

    /** The bundled Gateway API CRDs of {@code channel} together with Envoy Gateway's. */
    public static CrdSchemas bundled(Channel channel) {
        Map<String, CrdSchema> schemas = new LinkedHashMap<>();
        for (String kind : GATEWAY_API_KINDS) {
            read(
                    "gateway-api/" + GATEWAY_API_VERSION + "/" + channel.folder() + "/gateway.networking.k8s.io_" + kind
                            + ".yaml",
                    schemas);
        }
        for (String kind : ENVOY_GATEWAY_KINDS) {
            read("envoy-gateway/" + ENVOY_GATEWAY_VERSION + "/gateway.envoyproxy.io_" + kind + ".yaml", schemas);
        }
        return new CrdSchemas(channel, schemas);
    }

    public Channel channel() {
        return channel;
    }

    public Optional<CrdSchema> schemaFor(String apiVersion, String kind) {
        return Optional.ofNullable(byApiVersionAndKind.get(apiVersion + " " + kind));
    }

    /** Every served version of every bundled CRD. */
    public List<CrdSchema> all() {
        return List.copyOf(byApiVersionAndKind.values());
    }

    private static void read(String file, Map<String, CrdSchema> into) {
        ObjectMapper json = new ObjectMapper();
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(8 * 1024 * 1024); // Envoy Gateway's SecurityPolicy CRD is over 0.5 MB
        Yaml yaml = new Yaml(new SafeConstructor(options));
        try (InputStream in = CrdSchemas.class.getResourceAsStream(ROOT + file)) {
            if (in == null) {
                throw new IllegalStateException("bundled CRD " + file + " is missing from the jar");
            }
            for (Object doc : yaml.loadAll(in)) {
                if (doc == null) {
                    continue;
                }
                JsonNode crd = json.valueToTree(doc);
                if (!crd.path("kind").asText().equals("CustomResourceDefinition")) {
                    continue;
                }
                String group = crd.path("spec").path("group").asText();
                String kind = crd.path("spec").path("names").path("kind").asText();
                for (JsonNode version : crd.path("spec").path("versions")) {
                    if (version.path("served").asBoolean(false)) {
                        CrdSchema schema = new CrdSchema(
                                group,
                                version.path("name").asText(),
                                kind,
                                version.path("schema").path("openAPIV3Schema"),
                                file);
                        into.put(schema.apiVersion() + " " + kind, schema);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read bundled CRD " + file, e);
        }
    }
}
