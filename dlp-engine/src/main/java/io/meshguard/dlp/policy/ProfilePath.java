package io.meshguard.dlp.policy;

import io.meshguard.contract.CanonicalPath;
import java.util.Optional;

/**
 * The path a DLP profile is chosen on: the same canonical path extauthz authorises ({@link CanonicalPath}, defined
 * once in the contract module), never the raw {@code :path}. Otherwise {@code /v1/chat/%63ompletions} or
 * {@code /v1/./chat/completions} would be authorised by extauthz as the chat route and scanned by DLP with the
 * default profile.
 *
 * @param path the canonical path (query removed, escapes decoded, {@code ;parameters} removed); "" when the request
 *     had no path (CONNECT) or the path is refused
 * @param problem why extauthz would refuse the path (400 {@code invalid_path}); such a request gets no profile at
 *     all: the DLP server refuses it itself, so it can never be scanned by a weaker profile than its canonical twin
 */
public record ProfilePath(String path, Optional<CanonicalPath.Problem> problem) {
    public static final ProfilePath NONE = new ProfilePath("", Optional.empty());

    /** From the request target as Envoy hands it over ({@code :path}, query included). */
    public static ProfilePath of(String rawPath) {
        if (rawPath.isEmpty()) {
            return NONE; // CONNECT has no :path; profiles without path patterns still apply
        }
        CanonicalPath c = CanonicalPath.parse(rawPath);
        return c.canonical() ? new ProfilePath(c.path(), Optional.empty()) : new ProfilePath("", c.problem());
    }

    public boolean refused() {
        return problem.isPresent();
    }
}
