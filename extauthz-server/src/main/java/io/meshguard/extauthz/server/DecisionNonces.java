package io.meshguard.extauthz.server;

import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;

/**
 * Mints the nonce of one allowing decision: 128 random bits, base64url without padding (22 characters). It goes back
 * to Envoy as the CheckResponse's dynamic metadata and onto the decision's audit row, and the proxy's access log
 * carries it back, so proof of coverage joins a logged request to the Check that decided that very stream rather than
 * to any Check of the same client-chosen request id.
 *
 * <p>Drawn from a non-blocking source ({@code NativePRNGNonBlocking}: {@code /dev/urandom} mixed with a SHA1PRNG
 * seeded from it) so a Check never waits on the kernel's entropy estimate; where that source does not exist the
 * platform's default {@link SecureRandom}.
 */
public final class DecisionNonces {
    static final int BYTES = 16;

    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();

    private final SecureRandom random;

    public DecisionNonces(SecureRandom random) {
        this.random = Objects.requireNonNull(random, "random");
    }

    /** Nonces from the platform's non-blocking source. */
    public static DecisionNonces nonBlocking() {
        try {
            return new DecisionNonces(SecureRandom.getInstance("NativePRNGNonBlocking"));
        } catch (NoSuchAlgorithmException e) {
            return new DecisionNonces(new SecureRandom());
        }
    }

    public String next() {
        byte[] bytes = new byte[BYTES];
        random.nextBytes(bytes);
        return ENCODER.encodeToString(bytes);
    }
}
