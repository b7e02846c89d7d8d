package io.meshguard.dlp.detect;

import static io.meshguard.dlp.detect.BuiltinRecognizer.AT;
import static io.meshguard.dlp.detect.BuiltinRecognizer.alnum;
import static io.meshguard.dlp.detect.BuiltinRecognizer.alpha;
import static io.meshguard.dlp.detect.BuiltinRecognizer.digit;
import static io.meshguard.dlp.detect.BuiltinRecognizer.domainChar;
import static io.meshguard.dlp.detect.BuiltinRecognizer.localChar;
import static io.meshguard.dlp.detect.BuiltinRecognizer.startsWith;
import static io.meshguard.dlp.detect.BuiltinRecognizer.startsWithAny;

import java.util.function.Consumer;

/**
 * The built-in detectors tried where a token ends: e-mail addresses and credentials (AWS, GCP, GitHub, Slack, Stripe,
 * JWTs, and high-entropy secrets). Stateless: each reads the token's bytes and reports through its {@link
 * BuiltinRecognizer}, which keeps the per-detector state.
 */
final class CredentialDetectors {
    private CredentialDetectors() {}

    static final String[] GITHUB_PREFIXES = {"ghp_", "gho_", "ghu_", "ghs_", "ghr_"};
    private static final byte[][] AWS_PREFIXES = {ascii("AKIA"), ascii("ASIA"), ascii("ABIA"), ascii("ACCA")};
    private static final byte[] STRIPE_LIVE = ascii("live_");

    private static byte[] ascii(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    static void email(BuiltinRecognizer r, TextWindow t, byte[] b, int ts, int te, Consumer<Candidate> out) {
        for (int at = ts + 1; at < te - 3; at++) {
            if (b[at] != '@') {
                continue;
            }
            int s = at;
            while (s > ts && localChar(b[s - 1] & 0xff)) {
                s--;
            }
            while (s < at && b[s] == '.') {
                s++;
            }
            if (s == at || at - s > 64) {
                continue;
            }
            int e = at + 1;
            int lastDot = -1;
            while (e < te && domainChar(b[e] & 0xff)) {
                if (b[e] == '.') {
                    lastDot = e;
                }
                e++;
            }
            while (e > at + 1 && (b[e - 1] == '.' || b[e - 1] == '-')) {
                e--;
            }
            if (lastDot >= e - 1) {
                lastDot = -1;
                for (int k = at + 1; k < e; k++) {
                    if (b[k] == '.') {
                        lastDot = k;
                    }
                }
            }
            if (lastDot <= at + 1 || e - lastDot - 1 < 2 || b[at + 1] == '.' || e - at > 255) {
                continue;
            }
            boolean tldAlpha = true;
            for (int k = lastDot + 1; k < e; k++) {
                tldAlpha &= alpha(b[k] & 0xff);
            }
            if (!tldAlpha) {
                continue;
            }
            r.report(BuiltinDetector.EMAIL, t, s, e, 0.8, out);
            at = e;
        }
    }

    static void awsKey(BuiltinRecognizer r, TextWindow t, byte[] b, int k, int te, Consumer<Candidate> out) {
        if (!r.on(BuiltinDetector.AWS_ACCESS_KEY) || k + 20 > te) {
            return;
        }
        if (!startsWithAny(b, k, AWS_PREFIXES)) {
            return;
        }
        for (int m = k + 4; m < k + 20; m++) {
            int c = b[m];
            if (!(c >= 'A' && c <= 'Z') && !digit(c)) {
                return;
            }
        }
        if (k + 20 < te && alnum(b[k + 20] & 0xff)) {
            return;
        }
        r.report(BuiltinDetector.AWS_ACCESS_KEY, t, k, k + 20, 0.9, out);
    }

    static void fixed(
            BuiltinRecognizer r,
            TextWindow t,
            byte[] b,
            int k,
            int te,
            String prefix,
            int bodyLen,
            boolean underscoreDash,
            BuiltinDetector d,
            double confidence,
            Consumer<Candidate> out) {
        int end = k + prefix.length() + bodyLen;
        if (!r.on(d) || end > te) {
            return;
        }
        for (int m = 0; m < prefix.length(); m++) {
            if (b[k + m] != prefix.charAt(m)) {
                return;
            }
        }
        for (int m = k + prefix.length(); m < end; m++) {
            int c = b[m] & 0xff;
            if (!alnum(c) && !(underscoreDash && (c == '_' || c == '-'))) {
                return;
            }
        }
        if (end < te && (alnum(b[end] & 0xff) || (underscoreDash && (b[end] == '_' || b[end] == '-')))) {
            return;
        }
        r.report(d, t, k, end, confidence, out);
    }

    static void slack(BuiltinRecognizer r, TextWindow t, byte[] b, int k, int te, Consumer<Candidate> out) {
        if (!r.on(BuiltinDetector.SLACK_TOKEN) || k + 15 > te) {
            return;
        }
        int m;
        if (b[k + 1] == 'o' && b[k + 2] == 'x' && "abposr".indexOf(b[k + 3]) >= 0 && b[k + 4] == '-') {
            m = k + 5;
        } else if (b[k + 1] == 'a' && b[k + 2] == 'p' && b[k + 3] == 'p' && b[k + 4] == '-') {
            m = k + 5;
        } else {
            return;
        }
        int e = m;
        while (e < te && (alnum(b[e] & 0xff) || b[e] == '-') && e - m < 250) {
            e++;
        }
        if (e - m < 10) {
            return;
        }
        r.report(BuiltinDetector.SLACK_TOKEN, t, k, e, 0.9, out);
    }

    static void stripe(BuiltinRecognizer r, TextWindow t, byte[] b, int k, int te, Consumer<Candidate> out) {
        if (!r.on(BuiltinDetector.STRIPE_KEY) || k + 24 > te || b[k + 1] != 'k' || b[k + 2] != '_') {
            return;
        }
        if (!startsWith(b, k + 3, STRIPE_LIVE)) {
            return;
        }
        int e = k + 8;
        while (e < te && alnum(b[e] & 0xff) && e - k < 255) {
            e++;
        }
        if (e - k - 8 < 16) {
            return;
        }
        r.report(BuiltinDetector.STRIPE_KEY, t, k, e, 0.9, out);
    }

    static void jwt(BuiltinRecognizer r, TextWindow t, byte[] b, int k, int te, Consumer<Candidate> out) {
        if (!r.on(BuiltinDetector.JWT) || k + 20 > te || b[k + 1] != 'y' || b[k + 2] != 'J') {
            return;
        }
        int e = k;
        for (int seg = 0; seg < 3; seg++) {
            int s = e;
            while (e < te && (alnum(b[e] & 0xff) || b[e] == '_' || b[e] == '-')) {
                e++;
            }
            if (seg < 2 && e - s < 8) {
                return;
            }
            if (seg < 2) {
                if (e >= te || b[e] != '.') {
                    return;
                }
                e++;
            }
        }
        r.report(BuiltinDetector.JWT, t, k, e, 0.9, out);
    }

    static void secret(
            BuiltinRecognizer r, TextWindow t, byte[] b, int ts, int te, int flags, Consumer<Candidate> out) {
        int s = ts;
        int e = te;
        while (s < e && (b[s] == '.' || b[s] == '-' || b[s] == '/')) {
            s++;
        }
        while (e > s && (b[e - 1] == '.' || b[e - 1] == '-' || b[e - 1] == '/')) {
            e--;
        }
        int len = e - s;
        if (len < 20 || len > 256 || (flags & AT) != 0) {
            return;
        }
        boolean letter = false;
        boolean dig = false;
        for (int k = s; k < e; k++) {
            int c = b[k] & 0xff;
            letter |= alpha(c);
            dig |= digit(c);
        }
        if (!letter || !dig || Checksums.entropyBelow(b, s, e, r.entropyCounts(), 3.5)) {
            return;
        }
        r.report(BuiltinDetector.SECRET, t, s, e, 0.3, out);
    }
}
