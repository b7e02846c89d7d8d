package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Secrets the operator creates by hand before the install, read from the {@code kubectl -n meshguard create secret
 * generic NAME --from-literal=KEY=VALUE …} commands of manifests/istio/README.md (install step 1): the names and keys
 * are the README's, so a Secret the manifests need and the README does not tell the operator to create fails its pod
 * here as on a cluster. The values are the box's: a plain literal stays as written ({@code username=meshguard}); a
 * {@code url} points at the bank's parts of {@link ExternalParts} (without the README's {@code sslmode=verify-full} and
 * {@code rediss://}: the box has no certificates); a {@code password} of a database or Redis Secret is the one that
 * part was started with; {@code hash-key} is 32 random bytes in hex, as the README's command makes it; anything else
 * the operator fills in ({@code "$…"}) is a random token.
 */
final class OperatorSecrets {
    static final String NAMESPACE = "meshguard";
    private static final Pattern COMMAND =
            Pattern.compile("kubectl -n meshguard create secret generic (\\S+)((?:\\s+--from-(?:literal|file)=\\S+)+)");
    // a --from-file key gets content the box makes (the trail checkpoint key), never the named file
    private static final Pattern LITERAL = Pattern.compile("--from-(?:literal|file)=([^=\\s]+)=(\\S+)");

    // a bank creates these only in its own case (an identity provider behind a private CA): the box's IdP has none, and
    // the Secret's PEM is a file the operator has, not a value the box can make
    private static final java.util.Set<String> OPTIONAL = java.util.Set.of("meshguard-idp-ca");

    private final SecureRandom random = new SecureRandom();
    private final String dbPassword = token();
    private final String redisPassword = token();
    private final Map<String, Map<String, String>> secrets = new LinkedHashMap<>();

    /** The secrets of the README's install step 1. */
    static OperatorSecrets fromReadme(Path readme) {
        OperatorSecrets s = new OperatorSecrets();
        try {
            // one command per logical line: the README continues them with a backslash
            String text = Files.readString(readme).replaceAll("\\\\\\n\\s*", " ");
            Matcher command = COMMAND.matcher(text);
            while (command.find()) {
                if (OPTIONAL.contains(command.group(1))) {
                    continue;
                }
                Map<String, String> data = new LinkedHashMap<>();
                Matcher literal = LITERAL.matcher(command.group(2));
                while (literal.find()) {
                    data.put(literal.group(1), s.value(command.group(1), literal.group(1), literal.group(2)));
                }
                s.secrets.putIfAbsent(command.group(1), data);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (s.secrets.isEmpty()) {
            throw new IllegalStateException(readme + " tells the operator to create no Secret in namespace meshguard");
        }
        return s;
    }

    private String value(String secret, String key, String written) {
        boolean redis = secret.contains("redis");
        boolean db = secret.contains("-db");
        if (key.equals("url") && (db || redis)) {
            return redis ? redisUrl() : dbUrl();
        }
        if (key.equals("password") && (db || redis)) {
            return redis ? redisPassword : dbPassword;
        }
        if (key.equals("hash-key") || key.equals("approval-key")) {
            return HexFormat.of().formatHex(bytes(32));
        }
        if (key.equals("private-key.pem")) {
            return ed25519Pem();
        }
        String plain = written.replaceAll("^['\"]|['\"]$", "");
        return plain.contains("$") ? token() : plain;
    }

    /** What `openssl genpkey -algorithm ed25519` writes (the trail checkpoint key). */
    private static String ed25519Pem() {
        try {
            byte[] der = java.security.KeyPairGenerator.getInstance("Ed25519")
                    .generateKeyPair()
                    .getPrivate()
                    .getEncoded();
            return "-----BEGIN PRIVATE KEY-----\n"
                    + java.util.Base64.getEncoder().encodeToString(der) + "\n-----END PRIVATE KEY-----\n";
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    String dbPassword() {
        return dbPassword;
    }

    String redisPassword() {
        return redisPassword;
    }

    /** A key of one of the Secrets, e.g. {@code ("meshguard-xds-admin-token", "token")}. */
    String value(String secret, String key) {
        String v = secrets.getOrDefault(secret, Map.of()).get(key);
        if (v == null) {
            throw new AssertionError("manifests/istio/README.md creates no key " + key + " of Secret " + secret);
        }
        return v;
    }

    String dbUrl() {
        return "jdbc:postgresql://" + ServiceDirectory.fqdn(ExternalParts.POSTGRES, ExternalParts.NAMESPACE)
                + ":5432/meshguard";
    }

    String redisUrl() {
        return "redis://" + ServiceDirectory.fqdn(ExternalParts.REDIS, ExternalParts.NAMESPACE) + ":6379";
    }

    /**
     * The Secrets {@code next} (a newer release's README) lists and these lack, taken into these: what the operator
     * creates before an upgrade, as that release's CHANGELOG says.
     */
    List<Secret> adding(OperatorSecrets next) {
        java.util.Set<String> added = new java.util.HashSet<>();
        next.secrets.forEach((name, data) -> {
            if (secrets.putIfAbsent(name, data) == null) {
                added.add(name);
            }
        });
        return secrets().stream()
                .filter(s -> added.contains(s.getMetadata().getName()))
                .toList();
    }

    List<Secret> secrets() {
        List<Secret> all = new ArrayList<>();
        secrets.forEach((name, data) -> all.add(new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withType("Opaque")
                .withStringData(data)
                .build()));
        return all;
    }

    private String token() {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes(24));
    }

    private byte[] bytes(int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }
}
