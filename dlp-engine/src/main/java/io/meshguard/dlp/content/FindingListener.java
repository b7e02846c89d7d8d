package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.Finding;

/** Told about every decided finding of a body, with where in the body it was (no raw value). */
@FunctionalInterface
public interface FindingListener {
    /**
     * @param finding the finding (its offsets are within the scanned text named by {@code location})
     * @param location where: {@code body}, a JSON pointer such as {@code /customer/card}, {@code form:email}, or
     *     {@code sse:choice[0].content}
     */
    void onFinding(Finding finding, String location);

    FindingListener NONE = (f, l) -> {};
}
