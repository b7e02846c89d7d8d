package io.meshguard.cli.dev;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.text.ParseException;

/**
 * The local development issuer's EC P-256 key (ES256). Generated once per data directory and kept in a 0600 file;
 * tokens signed with it are trusted only by the policy {@code meshguard up} and {@code meshguard dev init} write,
 * never by the shipped {@code policies/authz.yaml}.
 */
public final class DevSigningKey {
    private final ECKey key;

    private DevSigningKey(ECKey key) {
        this.key = key;
    }

    /**
     * The key in {@code files}, created (with its public JWKS) when there is none yet. An existing key is reused, so
     * tokens minted before a restart of {@code up} stay valid.
     */
    public static DevSigningKey createOrLoad(DevIssuerFiles files) throws IOException {
        files.createFolders();
        if (!Files.exists(files.signingKey())) {
            ECKey generated;
            try {
                generated = new ECKeyGenerator(Curve.P_256)
                        .keyIDFromThumbprint(true)
                        .generate();
            } catch (JOSEException e) {
                throw new IOException("cannot generate the development signing key: " + e.getMessage(), e);
            }
            DevIssuerFiles.writeAtomically(files.signingKey(), generated.toJSONString() + "\n", "rw-------");
        }
        DevSigningKey loaded = load(files);
        // Always rewritten from the private key, so the served JWKS can never disagree with the signing key.
        DevIssuerFiles.writeAtomically(files.publicJwks(), loaded.publicJwks() + "\n", "rw-r--r--");
        return loaded;
    }

    /**
     * The key in {@code files}; fails with a message saying what to run when there is none, when it is not an EC
     * P-256 private key, or when others may read it.
     */
    public static DevSigningKey load(DevIssuerFiles files) throws IOException {
        if (!Files.isRegularFile(files.signingKey())) {
            throw new IOException("no development issuer key at " + files.signingKey()
                    + ": run ./meshguard up (or meshguard dev init) with this --data-dir first");
        }
        if (DevIssuerFiles.readableByOthers(files.signingKey())) {
            throw new IOException(files.signingKey() + " is readable by other users; run chmod 600 on it");
        }
        String json = Files.readString(files.signingKey(), StandardCharsets.UTF_8);
        ECKey parsed;
        try {
            parsed = ECKey.parse(json);
        } catch (ParseException e) {
            throw new IOException(
                    files.signingKey() + " is not an EC JWK (" + e.getMessage()
                            + "); delete it and run ./meshguard up again to make a new one",
                    e);
        }
        if (!Curve.P_256.equals(parsed.getCurve()) || !parsed.isPrivate() || parsed.getKeyID() == null) {
            throw new IOException(files.signingKey() + " is not a private EC P-256 key with a key id;"
                    + " delete it and run ./meshguard up again to make a new one");
        }
        return new DevSigningKey(parsed);
    }

    /** Key id, carried in every token's {@code kid} header. */
    public String keyId() {
        return key.getKeyID();
    }

    /** The public key set, the document the issuer serves at its JWKS URI. */
    public String publicJwks() {
        return new JWKSet(key.toPublicJWK()).toString(true);
    }

    /** {@code claims} as a compact ES256 JWS with this key's {@code kid} and {@code typ: JWT}. */
    public String sign(JWTClaimsSet claims) {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.ES256)
                        .keyID(key.getKeyID())
                        .type(JOSEObjectType.JWT)
                        .build(),
                claims);
        try {
            jwt.sign(new ECDSASigner(key));
        } catch (JOSEException e) {
            throw new IllegalStateException("signing with the development key failed: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }
}
