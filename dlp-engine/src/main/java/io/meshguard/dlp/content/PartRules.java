package io.meshguard.dlp.content;

import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.ValueHasher;

/**
 * What a container body (multipart, gRPC frames) needs to scan what it holds as the server scans a whole body: the
 * rules, where output and findings go, and the profile's dispositions for what cannot be scanned.
 *
 * @param blockNonText the profile says {@code non_text: block}: a part that is not text refuses the body
 * @param blockUnknownEncoding the profile says {@code unknown_encoding: block}: a part in a charset or transfer
 *     encoding meshguard does not read refuses the body (otherwise it is scanned as it is)
 */
public record PartRules(
        ScanRules rules,
        ValueHasher hasher,
        ByteSink out,
        FindingListener listener,
        boolean blockNonText,
        boolean blockUnknownEncoding,
        Unscanned unscanned) {}
