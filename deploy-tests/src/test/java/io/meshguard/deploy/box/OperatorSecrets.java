package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The Secrets the operator creates by hand before the install (manifests/istio/README.md, install step 1), with the
 * values the bank's own parts answer to: the database and Redis of {@link ExternalParts}. Differences from the
 * README's example values, because the box has no certificates: the JDBC URL carries no {@code sslmode=verify-full}
 * and the Redis URL is {@code redis://}, not {@code rediss://}.
 */
record OperatorSecrets(String dbPassword, String redisPassword, String adminToken, String backofficeToken,
        String hashKey) {
    static final String NAMESPACE = "meshguard";

    static OperatorSecrets generate() {
        SecureRandom random = new SecureRandom();
        return new OperatorSecrets(token(random), token(random), token(random), token(random),
                HexFormat.of().formatHex(bytes(random, 32)));
    }

    String dbUrl() {
        return "jdbc:postgresql://" + ServiceDirectory.fqdn(ExternalParts.POSTGRES, ExternalParts.NAMESPACE)
                + ":5432/meshguard";
    }

    String redisUrl() {
        return "redis://" + ServiceDirectory.fqdn(ExternalParts.REDIS, ExternalParts.NAMESPACE) + ":6379";
    }

    /** {@code kubectl -n meshguard create secret generic …}, each as the README writes it. */
    List<Secret> secrets() {
        return List.of(
                secret("meshguard-db", Map.of("url", dbUrl(), "username", "meshguard", "password", dbPassword)),
                secret("meshguard-db-owner", Map.of("url", dbUrl(), "username", "meshguard", "password", dbPassword)),
                secret("meshguard-dlp-hash-key", Map.of("hash-key", hashKey)),
                secret("meshguard-xds-admin-token", Map.of("token", adminToken)),
                secret("meshguard-backoffice-token", Map.of("token", backofficeToken)),
                secret("meshguard-redis", Map.of("url", redisUrl(), "password", redisPassword)));
    }

    private static Secret secret(String name, Map<String, String> data) {
        return new SecretBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
                .withType("Opaque").withStringData(data).build();
    }

    private static String token(SecureRandom random) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(random, 24));
    }

    private static byte[] bytes(SecureRandom random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
