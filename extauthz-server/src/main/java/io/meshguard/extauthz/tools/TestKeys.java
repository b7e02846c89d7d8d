package io.meshguard.extauthz.tools;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Signing keys made for tests (policy test files declare them by issuer, kid and algorithm; they are generated
 * fresh on each run and never stored) and the tokens, honest or forged, they sign.
 */
public final class TestKeys {
    /** How to spoil a token, for attack cases. */
    public enum Tamper {
        NONE,
        ALG_NONE,
        STRIP_SIGNATURE,
        WRONG_KEY,
        HS256_WITH_PUBLIC_KEY,
        EMBEDDED_JWK,
        JKU,
        X5U
    }

    private final JWK key;

    private TestKeys(JWK key) {
        this.key = key;
    }

    public static TestKeys generate(String kid, JWSAlgorithm alg) {
        try {
            if (alg.getName().startsWith("ES")) {
                Curve curve = alg.equals(JWSAlgorithm.ES384)
                        ? Curve.P_384
                        : alg.equals(JWSAlgorithm.ES512) ? Curve.P_521 : Curve.P_256;
                return new TestKeys(
                        new ECKeyGenerator(curve).keyID(kid).algorithm(alg).generate());
            }
            if (alg.getName().startsWith("RS") || alg.getName().startsWith("PS")) {
                return new TestKeys(
                        new RSAKeyGenerator(2048).keyID(kid).algorithm(alg).generate());
            }
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot generate a test key: " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("test keys support RS*, PS* and ES* algorithms, not " + alg);
    }

    /** An unrelated key of the same algorithm, made once per JVM (RSA generation is slow on small machines). */
    private static TestKeys attacker(JWSAlgorithm alg) {
        return ATTACKERS.computeIfAbsent(alg, a -> generate("attacker", a));
    }

    private static final java.util.concurrent.ConcurrentHashMap<JWSAlgorithm, TestKeys> ATTACKERS =
            new java.util.concurrent.ConcurrentHashMap<>();

    private TestKeys withKid(String kid) {
        try {
            return new TestKeys(
                    key instanceof RSAKey rsa
                            ? new RSAKey.Builder(rsa).keyID(kid).build()
                            : new ECKey.Builder((ECKey) key).keyID(kid).build());
        } catch (RuntimeException e) {
            throw new IllegalStateException(e);
        }
    }

    public JWK publicJwk() {
        return key.toPublicJWK();
    }

    public String kid() {
        return key.getKeyID();
    }

    public JWSAlgorithm algorithm() {
        return (JWSAlgorithm) key.getAlgorithm();
    }

    public static JWKSet publicSet(List<TestKeys> keys) {
        return new JWKSet(keys.stream().map(TestKeys::publicJwk).toList());
    }

    public String sign(JWTClaimsSet claims) {
        return sign(claims, Tamper.NONE);
    }

    public String sign(JWTClaimsSet claims, Tamper tamper) {
        try {
            JWSAlgorithm alg = algorithm();
            switch (tamper) {
                case ALG_NONE -> {
                    return b64("{\"alg\":\"none\",\"typ\":\"JWT\"}") + "." + b64(claims.toString()) + ".";
                }
                case STRIP_SIGNATURE -> {
                    String t = sign(claims, Tamper.NONE);
                    return t.substring(0, t.lastIndexOf('.') + 1);
                }
                case WRONG_KEY -> {
                    return attacker(alg).withKid(kid()).sign(claims);
                }
                case HS256_WITH_PUBLIC_KEY -> {
                    byte[] secret = key instanceof RSAKey rsa
                            ? rsa.toRSAPublicKey().getEncoded()
                            : ((ECKey) key).toECPublicKey().getEncoded();
                    SignedJWT jwt = new SignedJWT(
                            new JWSHeader.Builder(JWSAlgorithm.HS256)
                                    .keyID(kid())
                                    .build(),
                            claims);
                    jwt.sign(new MACSigner(pad(secret)));
                    return jwt.serialize();
                }
                case EMBEDDED_JWK, JKU, X5U -> {
                    TestKeys attacker = attacker(alg).withKid(kid());
                    JWSHeader.Builder h = new JWSHeader.Builder(alg).keyID(kid());
                    if (tamper == Tamper.EMBEDDED_JWK) {
                        h.jwk(attacker.publicJwk());
                    } else if (tamper == Tamper.JKU) {
                        h.jwkURL(java.net.URI.create("https://attacker.example/jwks.json"));
                    } else {
                        h.x509CertURL(java.net.URI.create("https://attacker.example/cert.pem"));
                    }
                    SignedJWT jwt = new SignedJWT(h.build(), claims);
                    jwt.sign(attacker.signer());
                    return jwt.serialize();
                }
                default -> {
                    SignedJWT jwt = new SignedJWT(
                            new JWSHeader.Builder(alg)
                                    .keyID(kid())
                                    .type(JOSEObjectType.JWT)
                                    .build(),
                            claims);
                    jwt.sign(signer());
                    return jwt.serialize();
                }
            }
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign a test token: " + e.getMessage(), e);
        }
    }

    /** Signs arbitrary header JSON (for header-injection cases such as odd {@code kid} values or {@code alg} casing). */
    public String signWithHeader(Map<String, Object> header, JWTClaimsSet claims) {
        try {
            JWSHeader h = JWSHeader.parse(header);
            SignedJWT jwt = new SignedJWT(h, claims);
            jwt.sign(signer());
            return jwt.serialize();
        } catch (JOSEException | java.text.ParseException e) {
            throw new IllegalStateException("cannot sign a test token: " + e.getMessage(), e);
        }
    }

    private JWSSigner signer() throws JOSEException {
        return key instanceof RSAKey rsa ? new RSASSASigner(rsa) : new ECDSASigner((ECKey) key);
    }

    private static byte[] pad(byte[] secret) {
        return secret.length >= 32 ? secret : java.util.Arrays.copyOf(secret, 32);
    }

    private static String b64(String json) {
        return Base64URL.encode(json.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
