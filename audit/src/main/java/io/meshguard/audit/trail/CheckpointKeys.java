package io.meshguard.audit.trail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;

/**
 * The Ed25519 keys of trail checkpoints as PEM files, the form {@code openssl genpkey -algorithm ed25519} writes
 * (PKCS#8 {@code PRIVATE KEY}) and {@code openssl pkey -pubout} derives ({@code PUBLIC KEY}).
 */
public final class CheckpointKeys {
    private CheckpointKeys() {}

    /** The private key in {@code file}; IllegalArgumentException naming the file when it is not an Ed25519 key. */
    public static PrivateKey readPrivate(Path file) throws IOException {
        try {
            return KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(pem(file, "PRIVATE KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    file + " is not an Ed25519 private key (PKCS#8 PEM, as `openssl genpkey "
                            + "-algorithm ed25519` writes): " + e.getMessage(),
                    e);
        }
    }

    /** The public key in {@code file}. */
    public static PublicKey readPublic(Path file) throws IOException {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(pem(file, "PUBLIC KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(
                    file + " is not an Ed25519 public key (PEM, as `openssl pkey -pubout` " + "writes): "
                            + e.getMessage(),
                    e);
        }
    }

    /**
     * The public half of an Ed25519 private key, derived by the JDK's own key pair generator from the key's seed
     * (RFC 8032 5.1.5: the public key is a function of the 32-byte private key), so the controller, whose Secret holds
     * only the private key, can name the key its checkpoints are signed with.
     */
    public static PublicKey publicOf(PrivateKey key) {
        if (!(key instanceof EdECPrivateKey ed) || ed.getBytes().isEmpty()) {
            throw new IllegalArgumentException("not an Ed25519 private key with its seed: " + key.getAlgorithm());
        }
        byte[] seed = ed.getBytes().get();
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("Ed25519");
            generator.initialize(NamedParameterSpec.ED25519, new SeedSource(seed));
            return generator.generateKeyPair().getPublic();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every JDK since 15", e);
        } finally {
            Arrays.fill(seed, (byte) 0);
        }
    }

    /**
     * The id a checkpoint names its key by: the SHA-256 of the public key's SubjectPublicKeyInfo (the DER that
     * {@code openssl pkey -pubout -outform DER} writes), base64url without padding. Computable by an auditor from the
     * public key file alone: {@code openssl pkey -pubin -in KEY.pub -outform DER | openssl dgst -sha256 -binary |
     * basenc --base64url | tr -d =}.
     */
    public static String keyId(PublicKey key) {
        try {
            return Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** Hands the generator the key's own seed as its one random draw: it then derives that key's pair. */
    private static final class SeedSource extends SecureRandom {
        private final byte[] seed;

        SeedSource(byte[] seed) {
            this.seed = seed;
        }

        @Override
        public void nextBytes(byte[] bytes) {
            if (bytes.length != seed.length) {
                throw new IllegalStateException("the generator asked for " + bytes.length + " bytes, not a seed");
            }
            System.arraycopy(seed, 0, bytes, 0, seed.length);
        }
    }

    /**
     * Makes a key pair in {@code privateFile} (owner-readable only) and {@code publicFile} unless the private key is
     * there already ({@code meshguard up}); returns the private key's file.
     */
    public static Path ensure(Path privateFile, Path publicFile) throws IOException {
        if (Files.exists(privateFile)) {
            return privateFile;
        }
        KeyPair pair;
        try {
            pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every JDK since 15", e);
        }
        Files.writeString(privateFile, toPem("PRIVATE KEY", pair.getPrivate().getEncoded()), StandardCharsets.US_ASCII);
        try {
            Files.setPosixFilePermissions(privateFile, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the data directory's own permissions protect it
        }
        Files.writeString(publicFile, toPem("PUBLIC KEY", pair.getPublic().getEncoded()), StandardCharsets.US_ASCII);
        return privateFile;
    }

    private static String toPem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der) + "\n-----END " + label + "-----\n";
    }

    private static byte[] pem(Path file, String label) throws IOException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        int begin = text.indexOf("-----BEGIN " + label + "-----");
        int end = text.indexOf("-----END " + label + "-----");
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException(file + " holds no PEM " + label);
        }
        return Base64.getMimeDecoder().decode(text.substring(begin + label.length() + 16, end));
    }
}
