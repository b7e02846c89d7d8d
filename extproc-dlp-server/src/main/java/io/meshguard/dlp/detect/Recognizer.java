package io.meshguard.dlp.detect;

import java.util.function.Consumer;

/**
 * Finds candidate spans in a stream, one round at a time. A recognizer keeps its own position; each round it reports
 * the candidates it can decide with the bytes present and returns its frontier: the smallest absolute offset at
 * which a candidate it has not reported yet could still start. Everything before the frontier is settled.
 */
public interface Recognizer {
    long scan(TextWindow text, Consumer<Candidate> out);

    /** Forgets all progress: the next scan starts a new text at offset 0. */
    void reset();

    /**
     * Bytes without which this recognizer reports nothing: a complete text that contains none of them has no
     * candidates. The default, every byte, is always right.
     */
    default boolean[] triggerBytes() {
        boolean[] all = new boolean[256];
        java.util.Arrays.fill(all, true);
        return all;
    }

    /** The largest number of bytes before a candidate's start that this recognizer reads. */
    default int lookBehind() {
        return 8;
    }
}
