package io.meshguard.catalog;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An organisation that owns APIs, products and applications: the tenant a role binding's {@code tenant:NAME} scope
 * names. Created by an operator ({@code meshguard tenant create}); every tenant-owned row refers to one.
 *
 * @param id lower-case letters, digits, '.', '_' and '-', starting with a letter or digit (the table's check)
 */
public record Tenant(String id, Optional<String> displayName) {
    private static final Pattern ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,199}");

    public Tenant {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(displayName, "displayName");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("tenant id '" + id + "': lower-case letters, digits, '.', '_' and '-',"
                    + " starting with a letter or digit, at most 200 characters");
        }
    }

    /** The refusal when {@code id} names no tenant: in words, with the command that fixes it. */
    public static CatalogRefusal unknown(String id) {
        return new CatalogRefusal(
                CatalogRefusal.Kind.INVALID,
                "tenant '" + id + "' does not exist; create it with" + " `meshguard tenant create " + id + "`");
    }
}
