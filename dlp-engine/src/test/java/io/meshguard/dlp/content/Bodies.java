package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.Scans;
import io.meshguard.dlp.scan.ValueHasher;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test helpers: run a body transformer over whole and chunked input. */
final class Bodies {
    interface Factory {
        BodyTransformer create(ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener);
    }

    record Result(String text, List<String> findings, Finding blocked) {}

    static final ValueHasher HASHER = ValueHasher.forTenant("k".repeat(32).getBytes(StandardCharsets.UTF_8), "t");

    private Bodies() {}

    static ScanRules rules(ActionKind action) {
        return Scans.allBuiltins(action);
    }

    static Result run(Factory f, ScanRules rules, byte[] input, Random random, int maxChunk) {
        ByteSink out = new ByteSink();
        List<String> findings = new ArrayList<>();
        BodyTransformer t =
                f.create(rules, HASHER, out, (finding, location) -> findings.add(finding.detector() + "@" + location));
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        int i = 0;
        while (i < input.length) {
            int len = random == null ? input.length : Math.min(input.length - i, 1 + random.nextInt(maxChunk));
            t.write(input, i, len);
            all.writeBytes(out.drain());
            i += len;
        }
        t.finish();
        all.writeBytes(out.drain());
        return new Result(
                all.toString(StandardCharsets.UTF_8), findings, t.blockedBy().orElse(null));
    }

    /** The output of {@code input} written as two chunks, split before byte {@code at}. */
    static String twoChunks(Factory f, ActionKind action, byte[] input, int at) {
        ByteSink out = new ByteSink();
        BodyTransformer t = f.create(rules(action), HASHER, out, FindingListener.NONE);
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        t.write(input, 0, at);
        all.writeBytes(out.drain());
        t.write(input, at, input.length - at);
        t.finish();
        all.writeBytes(out.drain());
        return all.toString(StandardCharsets.UTF_8);
    }

    static Result whole(Factory f, ActionKind action, String input) {
        return run(f, rules(action), input.getBytes(StandardCharsets.UTF_8), null, 0);
    }
}
