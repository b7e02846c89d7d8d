package io.meshguard.bench.dlp;

import io.meshguard.dlp.content.FindingListener;
import io.meshguard.dlp.policy.*;
import io.meshguard.dlp.scan.ValueHasher;
import java.nio.file.Path;
import java.util.Random;

/** One pass over a corpus per run(); findings counted. */
public final class PassRunner implements Runnable {
    final byte[] corpus; final MediaTypes.Kind kind; final DirectionPolicy p; final ValueHasher h; final FindingListener l;
    public final long[] f = new long[1];
    public PassRunner(String which) throws Exception {
        DlpPolicy policy = DlpPolicyParser.parse(Path.of("policies/dlp.yaml"));
        p = policy.select(Direction.RESPONSE, "api.bank", "/accounts", "text/plain").orElseThrow();
        ScanThroughput.Corpora c = new ScanThroughput.Corpora(new Random(1));
        corpus = switch (which) { case "prose" -> c.prose(16 << 20); case "json" -> c.json(16 << 20);
            case "sse" -> c.sse(8 << 20); default -> c.piiDense(16 << 20); };
        kind = which.equals("json") ? MediaTypes.Kind.JSON : which.equals("sse") ? MediaTypes.Kind.EVENT_STREAM : MediaTypes.Kind.TEXT;
        h = ValueHasher.forTenant(new byte[32], "bench");
        l = (x, loc) -> f[0] += x.valueHmac().length() + loc.length() > 0 ? 1 : 0;
    }
    public void run() { ScanThroughput.once(kind, corpus, p, h, 16384, l); }
    @Override public String toString() { return corpus.length + " " + f[0]; }
}
