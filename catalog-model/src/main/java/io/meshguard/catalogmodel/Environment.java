package io.meshguard.catalogmodel;

/** Where in a provider's release path a product publish sits; part of its host name. */
public enum Environment {
    DEV,
    STAGING,
    PROD;

    /** The name as it appears in hosts and APIs ({@code dev}, {@code staging}, {@code prod}). */
    public String label() {
        return name().toLowerCase();
    }
}
