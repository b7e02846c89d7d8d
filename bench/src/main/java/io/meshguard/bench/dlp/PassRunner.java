package io.meshguard.bench.dlp;

import io.meshguard.dlp.content.FindingListener;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DirectionPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.MediaTypes;
import io.meshguard.dlp.scan.ValueHasher;
import java.nio.file.Path;
import java.util.Random;

/**
 * One pass of {@link ScanThroughput}'s corpus per {@link #run}, in 16 KB chunks with the shipped policy's response
 * profile; {@link #toString} gives the corpus size and the findings counted. Loaded by {@link InterleavedPasses} once
 * per build under test.
 */
public final class PassRunner implements Runnable {
    private final byte[] corpus;
    private final MediaTypes.Kind kind;
    private final DirectionPolicy policy;
    private final ValueHasher hasher = ValueHasher.forTenant(new byte[32], "bench");
    private final long[] findings = new long[1];
    private final FindingListener listener = (f, loc) -> findings[0]++;

    public PassRunner(String which) throws Exception {
        policy = DlpPolicyParser.parse(Path.of("policies/dlp.yaml"))
                .select(Direction.RESPONSE, "api.bank", "/accounts", "text/plain")
                .orElseThrow();
        ScanThroughput.Corpora c = new ScanThroughput.Corpora(new Random(1));
        corpus = switch (which) {
            case "prose" -> c.prose(16 << 20);
            case "json" -> c.json(16 << 20);
            case "sse" -> c.sse(8 << 20);
            case "pii" -> c.piiDense(16 << 20);
            case "pii-distinct" -> c.piiDenseDistinct(16 << 20);
            default -> throw new IllegalArgumentException("no corpus " + which);
        };
        kind = switch (which) {
            case "json" -> MediaTypes.Kind.JSON;
            case "sse" -> MediaTypes.Kind.EVENT_STREAM;
            default -> MediaTypes.Kind.TEXT;
        };
    }

    @Override
    public void run() {
        ScanThroughput.once(kind, corpus, policy, hasher, 16384, listener);
    }

    @Override
    public String toString() {
        return corpus.length + " " + findings[0];
    }
}
