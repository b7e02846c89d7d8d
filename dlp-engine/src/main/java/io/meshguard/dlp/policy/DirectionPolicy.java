package io.meshguard.dlp.policy;

import io.meshguard.dlp.scan.ScanRules;

/**
 * What a profile does to one direction's bodies.
 *
 * @param profile name of the profile it came from
 * @param rules detectors and actions
 * @param nonText what to do with bodies whose content type is not text (images, archives, octet-stream)
 * @param oversize what to do once a body exceeds {@code maxBodyBytes}
 * @param maxBodyBytes scanned-size limit (after decompression)
 * @param unknownEncoding what to do with a content-encoding meshguard cannot decode (compress, stacked codings, …)
 * @param grpc what to do with gRPC bodies ({@code application/grpc}, {@code +proto}, {@code grpc-web} …): length-prefixed
 *     binary frames that cannot be scanned or rewritten as text; defaults to {@code nonText}
 */
public record DirectionPolicy(
        String profile,
        ScanRules rules,
        Disposition nonText,
        Disposition oversize,
        long maxBodyBytes,
        Disposition unknownEncoding,
        Disposition grpc) {

    /** Pass unscanned (audited) or block. */
    public enum Disposition {
        PASS,
        BLOCK
    }
}
