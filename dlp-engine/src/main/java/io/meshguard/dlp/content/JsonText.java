package io.meshguard.dlp.content;

import java.nio.charset.StandardCharsets;

/** Quoting of Java strings as JSON string literals (for the bodies meshguard writes itself). */
public final class JsonText {
    private JsonText() {}

    public static String quote(String s) {
        ByteSink out = new ByteSink();
        out.write('"');
        JsonEscapes.escape(s.getBytes(StandardCharsets.UTF_8), out);
        out.write('"');
        return new String(out.drain(), StandardCharsets.UTF_8);
    }
}
