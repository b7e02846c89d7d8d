package io.meshguard.dlp.content;

/** Replaces a private key member's value inside the output of a string holding JSON text. */
final class NestedReplace {
    private NestedReplace() {}

    /**
     * {@code region} with every occurrence of {@code value} replaced by {@code replacement}. Key material is base64url,
     * which no JSON level escapes, so it stands in the output as decoded; where it does not (a producer that wrote
     * {@code \/}, another detector's mask across it), the whole region is replaced: the key never passes.
     */
    static byte[] all(byte[] region, byte[] value, byte[] replacement) {
        ByteSink out = new ByteSink(region.length);
        int from = 0;
        boolean any = false;
        for (int at = indexOf(region, value, 0); at >= 0; at = indexOf(region, value, at + value.length)) {
            out.write(region, from, at - from);
            out.write(replacement);
            from = at + value.length;
            any = true;
        }
        if (!any) {
            return replacement.clone();
        }
        out.write(region, from, region.length - from);
        return out.drain();
    }

    private static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i <= hay.length - needle.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (hay[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
