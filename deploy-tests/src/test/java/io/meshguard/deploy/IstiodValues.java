package io.meshguard.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The istiod Helm values meshguard ships (manifests/istio/mesh/istiod-values.yaml), read strictly. There is no Java
 * model of Istio's MeshConfig, so these records mirror the part we use, with the field names of istio/api
 * {@code mesh/v1alpha1/config.proto} (ExtensionProvider, EnvoyExternalAuthorizationGrpcProvider,
 * EnvoyHttpGrpcV3LogProvider, ProxyPathNormalization) in their JSON (lowerCamel) form. Any other field fails to parse.
 */
record IstiodValues(MeshConfig meshConfig) {
    private static final ObjectMapper STRICT = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .addModule(new Jdk8Module())
            .build();

    static IstiodValues read(Path file) throws IOException {
        return STRICT.readValue(file.toFile(), IstiodValues.class);
    }

    static IstiodValues parse(String yaml) throws IOException {
        return STRICT.readValue(yaml, IstiodValues.class);
    }

    record MeshConfig(Optional<PathNormalization> pathNormalization, List<ExtensionProvider> extensionProviders) {}

    /** {@code ProxyPathNormalization}; the enum values of its {@code NormalizationType}. */
    record PathNormalization(Normalization normalization) {}

    enum Normalization {
        DEFAULT,
        NONE,
        BASE,
        MERGE_SLASHES,
        DECODE_AND_MERGE_SLASHES
    }

    /** One provider; exactly one of the provider fields is set (a oneof in the proto). */
    record ExtensionProvider(
            String name, Optional<ExtAuthzGrpc> envoyExtAuthzGrpc, Optional<HttpGrpcAccessLog> envoyHttpAls) {}

    record ExtAuthzGrpc(
            String service,
            int port,
            Optional<String> timeout,
            Optional<Boolean> failOpen,
            Optional<Boolean> clearRouteCache,
            Optional<String> statusOnError,
            Optional<Map<String, Object>> includeRequestBodyInCheck) {}

    record HttpGrpcAccessLog(
            String service,
            int port,
            Optional<String> logName,
            Optional<List<String>> filterStateObjectsToLog,
            Optional<List<String>> additionalRequestHeadersToLog,
            Optional<List<String>> additionalResponseHeadersToLog,
            Optional<List<String>> additionalResponseTrailersToLog) {}

    Optional<ExtensionProvider> provider(String name) {
        return meshConfig.extensionProviders().stream()
                .filter(p -> p.name().equals(name))
                .findFirst();
    }
}
