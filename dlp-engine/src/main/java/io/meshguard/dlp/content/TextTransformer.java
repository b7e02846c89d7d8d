package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanOutput;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.StreamScanner;
import io.meshguard.dlp.scan.ValueHasher;
import java.util.Optional;

/** text/*, XML, bodies without a content type, and the fallback for malformed JSON: the bytes are the text. */
public final class TextTransformer implements BodyTransformer {
    private final StreamScanner scanner;
    private Finding blocked;

    public TextTransformer(
            ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener, String location) {
        this.scanner = new StreamScanner(rules, hasher, new ScanOutput() {
            @Override
            public void pass(byte[] b, int off, int len) {
                out.write(b, off, len);
            }

            @Override
            public void replace(Finding f, byte[] replacement) {
                listener.onFinding(f, location);
                out.write(replacement);
            }

            @Override
            public void block(Finding f) {
                listener.onFinding(f, location);
                blocked = f;
            }

            @Override
            public void alert(Finding f) {
                listener.onFinding(f, location);
            }
        });
    }

    @Override
    public void write(byte[] b, int off, int len) {
        scanner.feed(b, off, len);
    }

    @Override
    public void finish() {
        scanner.finish();
    }

    @Override
    public Optional<Finding> blockedBy() {
        return Optional.ofNullable(blocked);
    }

    @Override
    public long heldBack() {
        return scanner.heldBack();
    }
}
