package io.meshguard.dlp.scan;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** A {@link ScanOutput} that gathers the rewritten bytes and the findings in memory (CLI, tests, buffered bodies). */
public final class CollectingOutput implements ScanOutput {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final List<Finding> findings = new ArrayList<>();
    private Finding block;

    @Override
    public void pass(byte[] b, int off, int len) {
        bytes.write(b, off, len);
    }

    @Override
    public void replace(Finding finding, byte[] replacement) {
        findings.add(finding);
        bytes.writeBytes(replacement);
    }

    @Override
    public void block(Finding finding) {
        findings.add(finding);
        block = finding;
    }

    @Override
    public void alert(Finding finding) {
        findings.add(finding);
    }

    public byte[] bytes() {
        return bytes.toByteArray();
    }

    /** Takes the bytes gathered so far and starts over. */
    public byte[] drain() {
        byte[] out = bytes.toByteArray();
        bytes.reset();
        return out;
    }

    public List<Finding> findings() {
        return List.copyOf(findings);
    }

    /** Number of findings gathered so far (without copying them). */
    public int findingCount() {
        return findings.size();
    }

    /** The {@code index}-th finding gathered. */
    public Finding finding(int index) {
        return findings.get(index);
    }

    /** Drops the bytes gathered since the last drain. */
    public void discard() {
        bytes.reset();
    }

    public Optional<Finding> blockedBy() {
        return Optional.ofNullable(block);
    }
}
