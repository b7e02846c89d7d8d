package io.meshguard.xds.store;

/** The database refused or failed an operation; the message says which and why. */
public final class StoreException extends RuntimeException {
    public StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
