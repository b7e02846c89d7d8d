package io.meshguard.dlp.detect;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Feeds a recognizer a text in random chunks of 1 to 24 bytes, as a stream would, and collects its candidates. */
final class ChunkedScans {
    private ChunkedScans() {}

    static List<Candidate> scan(Recognizer r, byte[] text, Random chunks) {
        List<Candidate> found = new ArrayList<>();
        TextWindow t = new TextWindow();
        int fed = 0;
        while (fed < text.length) {
            int len = Math.min(text.length - fed, 1 + chunks.nextInt(24));
            t.append(text, fed, len);
            fed += len;
            r.scan(t, found::add);
        }
        t.markComplete();
        r.scan(t, found::add);
        return found;
    }
}
