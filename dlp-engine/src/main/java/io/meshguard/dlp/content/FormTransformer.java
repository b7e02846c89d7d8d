package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.ValueHasher;
import java.util.Optional;

/**
 * application/x-www-form-urlencoded: every field name and value is decoded ({@code +} and {@code %XX}) and scanned
 * on its own; untouched bytes keep their original encoding, replacements are percent-encoded.
 */
public final class FormTransformer implements BodyTransformer {
    private static final byte[] HEX = "0123456789ABCDEF".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private final ByteSink out;
    private final EncodedTextScan fields;
    private boolean inValue;
    private boolean started;
    private final byte[] pct = new byte[3];
    private int pctLen;
    private final byte[] one = new byte[1];
    private final StringBuilder key = new StringBuilder();
    private Finding blocked;

    public FormTransformer(ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener) {
        this.out = out;
        this.fields = new EncodedTextScan(rules, hasher, out, FormTransformer::encode, listener);
    }

    static void encode(byte[] s, ByteSink out) {
        for (byte x : s) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '-'
                    || c == '.'
                    || c == '_'
                    || c == '~'
                    || c == '*') {
                out.write(c);
            } else if (c == ' ') {
                out.write('+');
            } else {
                out.write('%');
                out.write(HEX[c >> 4]);
                out.write(HEX[c & 15]);
            }
        }
    }

    @Override
    public void write(byte[] b, int off, int len) {
        int i = off;
        int end = off + len;
        if (!started && len > 0) {
            startField();
        }
        while (i < end && blocked == null) {
            if (pctLen > 0) {
                pct[pctLen++] = b[i++];
                completePercent();
                continue;
            }
            int run = i;
            while (i < end) {
                byte c = b[i];
                if (c == '&' || c == '=' || c == '+' || c == '%') {
                    break;
                }
                i++;
            }
            if (i > run) {
                fields.literal(b, run, i - run);
                captureKey(b, run, i - run);
            }
            if (i == end) {
                break;
            }
            byte c = b[i++];
            switch (c) {
                case '+' -> {
                    one[0] = ' ';
                    fields.escaped(b, i - 1, 1, one, 1);
                    captureKey(one, 0, 1);
                }
                case '%' -> pct[pctLen++] = '%';
                case '=' -> {
                    if (inValue) {
                        one[0] = '=';
                        fields.literal(one, 0, 1);
                    } else {
                        endField();
                        out.write('=');
                        inValue = true;
                        startField();
                    }
                }
                default -> { // '&'
                    endField();
                    out.write('&');
                    inValue = false;
                    key.setLength(0);
                    startField();
                }
            }
        }
    }

    private void completePercent() {
        if (pctLen < 3 && hex(pct[pctLen - 1]) >= 0) {
            return;
        }
        if (pctLen == 3 && hex(pct[1]) >= 0 && hex(pct[2]) >= 0) {
            one[0] = (byte) (hex(pct[1]) * 16 + hex(pct[2]));
            fields.escaped(pct, 0, 3, one, 1);
            captureKey(one, 0, 1);
        } else {
            fields.literal(pct, 0, pctLen); // not an escape: the bytes are the text
            captureKey(pct, 0, pctLen);
        }
        pctLen = 0;
    }

    private static int hex(byte c) {
        return c >= '0' && c <= '9'
                ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }

    private void captureKey(byte[] b, int off, int len) {
        if (!inValue && key.length() < 80) {
            key.append(new String(b, off, Math.min(len, 80), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private void startField() {
        started = true;
        String k = key.toString();
        String location = inValue ? "form:" + (Locations.safeName(k) ? k : "*") : "form:(name)";
        // A field name is context for its value, as a JSON key is (names cut at 80 characters give none).
        fields.start(() -> location, inValue && k.length() < 80 ? k : "");
    }

    private void endField() {
        if (pctLen > 0) {
            fields.literal(pct, 0, pctLen);
            pctLen = 0;
        }
        fields.finish();
        blocked = fields.blockedBy().orElse(null);
    }

    @Override
    public void finish() {
        if (blocked == null && started) {
            endField();
        }
    }

    @Override
    public Optional<Finding> blockedBy() {
        return blocked != null ? Optional.of(blocked) : fields.blockedBy();
    }

    @Override
    public long heldBack() {
        return fields.heldBack() + pctLen;
    }
}
