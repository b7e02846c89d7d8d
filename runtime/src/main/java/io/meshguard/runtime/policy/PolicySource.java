package io.meshguard.runtime.policy;

import java.util.Objects;

/**
 * The text of one policy file.
 *
 * @param fileName name shown in errors ({@code authz.yaml}), relative to the watched directory
 * @param text the file's content (UTF-8 decoded)
 */
public record PolicySource(String fileName, String text) {
    public PolicySource {
        Objects.requireNonNull(fileName, "fileName");
        Objects.requireNonNull(text, "text");
    }
}
