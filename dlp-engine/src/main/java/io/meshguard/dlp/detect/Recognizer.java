package io.meshguard.dlp.detect;

import java.util.function.Consumer;

/**
 * Finds candidate spans in a stream, one round at a time. A recognizer keeps its own position; each round it reports
 * the candidates it can decide with the bytes present and returns its frontier: the smallest absolute offset at
 * which a candidate it has not reported yet could still start. Everything before the frontier is settled.
 */
public interface Recognizer {
    long scan(TextWindow text, Consumer<Candidate> out);

    /**
     * A recognizer for another stream: the same compiled tables (shared, never written after construction) and no
     * progress. Streams are many and short, so what a policy compiles is built once, not once per stream.
     */
    Recognizer newStream();

    /** Forgets all progress: the next scan starts a new text at offset 0. */
    void reset();

    /**
     * Whether {@code b[off, off + len)}, scanned alone as a complete text, could give this recognizer a candidate.
     * False must be certain (the scan would report nothing); true may be wrong. Uses no state of this recognizer,
     * so one instance may answer for every thread. The default, true, is always right.
     */
    default boolean mayFind(byte[] b, int off, int len) {
        return true;
    }

    /**
     * Tells {@code table} which bytes, byte pairs or runs may start a candidate of this recognizer, so that its
     * {@link #mayFind} false answers follow from the table's; false when it cannot say (the table then always answers
     * true). The default says nothing.
     */
    default boolean describeStarts(TriggerTable table) {
        return false;
    }

    /**
     * Adds this recognizer's byte searches to {@code table}, the searches that then skip the words the table's map
     * clears ({@link TextWindow#mapStarts}). The default, none, is always right.
     */
    default void describeSearches(StartTable table) {}

    /** The largest number of bytes before a candidate's start that this recognizer reads. */
    default int lookBehind() {
        return 8;
    }
}
