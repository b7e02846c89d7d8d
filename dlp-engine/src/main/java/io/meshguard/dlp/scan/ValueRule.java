package io.meshguard.dlp.scan;

import java.util.Optional;

/**
 * A detector applied to a whole value that a structure pass found, outside the recognizers: a JWK's private member
 * is a private key because of the keys around it, which a text recognizer cannot look back at. The value is
 * reported as one finding of the detector, with its action, the value's HMAC and the rule's allow-list.
 */
public final class ValueRule {
    private final DetectorRule rule;
    private final Replacements replacements;

    ValueRule(DetectorRule rule) {
        this.rule = rule;
        this.replacements = new Replacements(rule.action(), rule.name());
    }

    public ActionKind action() {
        return rule.action().kind();
    }

    /** The finding for the whole value {@code b[off, off + len)}, or empty when the rule allows the value. */
    public Optional<Finding> finding(byte[] b, int off, int len, double confidence, ValueHasher hasher) {
        if (rule.allowed(new String(b, off, len, java.nio.charset.StandardCharsets.UTF_8))) {
            return Optional.empty();
        }
        return Optional.of(new Finding(
                rule.name(),
                rule.action().kind(),
                0,
                len,
                confidence,
                hasher.hex(b, off, len),
                Finding.codePoints(b, off, len)));
    }

    /** What the value becomes for {@code finding} (the value itself for alert and block). */
    public byte[] replacement(byte[] b, int off, int len, Finding finding) {
        return replacements.of(b, off, len, finding.valueHmac());
    }
}
