package io.meshguard.dlp.scan;

import io.meshguard.dlp.detect.BuiltinDetector;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.Set;

/** Test helpers: default built-in rules and whole/chunked scans. */
public final class Scans {
    static final byte[] KEY = "test-master-key-0123456789abcdef".getBytes(StandardCharsets.UTF_8);

    private Scans() {}

    /** Every built-in detector at its defaults (threshold 0.5, its context words), each acting as {@code action}. */
    public static ScanRules allBuiltins(ActionKind action) {
        ScanRules rules = new ScanRules();
        for (BuiltinDetector d : BuiltinDetector.values()) {
            rules.addBuiltin(
                    d,
                    new DetectorRule(
                            d.id(),
                            0.5,
                            new ContextRule(d.contextBoost(), d.contextPenalty(), 32, 0.3, 0.5),
                            Set.of(),
                            List.of(),
                            Action.of(action)));
        }
        return rules;
    }

    static CollectingOutput whole(ScanRules rules, byte[] input) {
        CollectingOutput out = new CollectingOutput();
        StreamScanner s = new StreamScanner(rules, ValueHasher.forTenant(KEY, "t1"), out);
        s.feed(input, 0, input.length);
        s.finish();
        return out;
    }

    static CollectingOutput chunked(ScanRules rules, byte[] input, Random random, int maxChunk) {
        CollectingOutput out = new CollectingOutput();
        feed(new StreamScanner(rules, ValueHasher.forTenant(KEY, "t1"), out), input, random, maxChunk);
        return out;
    }

    /**
     * Feeds {@code text} to {@code s} in chunks of up to {@code maxChunk} bytes (whole when {@code random} is null),
     * then ends it.
     */
    static void feed(StreamScanner s, byte[] text, Random random, int maxChunk) {
        int i = 0;
        while (i < text.length) {
            int len = random == null ? text.length : Math.min(text.length - i, 1 + random.nextInt(maxChunk));
            s.feed(text, i, len);
            i += len;
        }
        s.finish();
    }

    static String redactAll(String text) {
        return new String(
                whole(allBuiltins(ActionKind.REDACT), text.getBytes(StandardCharsets.UTF_8))
                        .bytes(),
                StandardCharsets.UTF_8);
    }
}
