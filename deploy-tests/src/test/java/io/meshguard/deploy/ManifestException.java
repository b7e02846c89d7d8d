package io.meshguard.deploy;

/** A manifest or Envoy config that does not parse strictly; the message names the file, document and field. */
final class ManifestException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    ManifestException(String message) {
        super(message);
    }

    ManifestException(String message, Throwable cause) {
        super(message, cause);
    }
}
