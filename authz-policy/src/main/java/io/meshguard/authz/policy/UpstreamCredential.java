package io.meshguard.authz.policy;

import java.nio.file.Path;

/**
 * A service credential injected upstream in place of the caller's, read from a mounted secret file (re-read when
 * the file changes, so secret rotation needs no restart).
 *
 * @param header header to set, e.g. {@code authorization}
 * @param prefix text put before the file's content, e.g. {@code "Bearer "}
 * @param file the mounted secret
 */
public record UpstreamCredential(String header, String prefix, Path file) {}
