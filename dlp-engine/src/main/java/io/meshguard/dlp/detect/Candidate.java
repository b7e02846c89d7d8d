package io.meshguard.dlp.detect;

/**
 * A span a recognizer found, before context words, allow-lists and thresholds are applied.
 *
 * @param detector index of the detector in the compiled rule set
 * @param start absolute start offset in the scanned text (inclusive)
 * @param end absolute end offset (exclusive)
 * @param confidence the recognizer's own confidence, 0..1, after its validator
 */
public record Candidate(int detector, long start, long end, double confidence) {}
