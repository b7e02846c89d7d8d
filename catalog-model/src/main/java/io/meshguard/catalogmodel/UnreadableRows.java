package io.meshguard.catalogmodel;

import java.util.Set;

/**
 * A tenant whose catalogue rows this release cannot read (a value a newer release's migration allows, a limits column
 * a broken write left): its product calls are refused, as a provider and as a customer, while every other tenant is
 * read and served. Only the ids the refusal needs are kept, read as text, never a row this release might misread.
 *
 * @param why the first row that could not be read, for the operator (never sent to a caller)
 * @param publishes the ids of the tenant's product publishes: calls to them are refused
 * @param plans the ids of the tenant's plans: other tenants' subscriptions to them stay readable
 * @param credentials the tenant's credentials as {@code KIND/id} ({@code APIKEY/k-1}): calls presenting them are
 *     refused
 */
public record UnreadableRows(String why, Set<String> publishes, Set<String> plans, Set<String> credentials) {
    public UnreadableRows {
        publishes = Set.copyOf(publishes);
        plans = Set.copyOf(plans);
        credentials = Set.copyOf(credentials);
    }

    /** How a credential is named in {@link #credentials()}. */
    public static String credentialKey(String kind, String id) {
        return kind + "/" + id;
    }
}
