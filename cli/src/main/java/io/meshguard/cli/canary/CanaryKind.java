package io.meshguard.cli.canary;

import java.util.Locale;

/** What a canary sends through a protected route, and so which part of the path it proves. */
public enum CanaryKind {
    /** A request carrying an expired bearer token: the Check must deny it with 401. */
    EXPIRED_TOKEN,
    /** A request carrying the canary credential and a Luhn-valid card number in its body: the DLP must block it. */
    TEST_CARD;

    /** The name in the routes file and in the metric's {@code kind} label. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    static CanaryKind of(String id) {
        for (CanaryKind k : values()) {
            if (k.id().equals(id)) {
                return k;
            }
        }
        throw new IllegalArgumentException("unknown canary kind '" + id + "' (expired_token, test_card)");
    }
}
