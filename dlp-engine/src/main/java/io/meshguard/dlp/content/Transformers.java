package io.meshguard.dlp.content;

import io.meshguard.dlp.policy.MediaTypes;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.ValueHasher;

/** Picks the transformer for a content type; the server and {@code meshguard dlp scan} both go through here. */
public final class Transformers {
    private Transformers() {}

    /** Makes the transformer of one body; the server's is {@link #forKind}. */
    @FunctionalInterface
    public interface Factory {
        BodyTransformer create(
                MediaTypes.Kind kind, ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener);
    }

    public static BodyTransformer forKind(
            MediaTypes.Kind kind, ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener) {
        return switch (kind) {
            case JSON -> new JsonTransformer(rules, hasher, out, listener);
            case FORM -> new FormTransformer(rules, hasher, out, listener);
            case EVENT_STREAM -> new SseTransformer(rules, hasher, out, listener);
            case JSON_LINES -> SseTransformer.jsonLines(rules, hasher, out, listener);
            case TEXT, NON_TEXT -> new TextTransformer(rules, hasher, out, listener, "body");
        };
    }
}
