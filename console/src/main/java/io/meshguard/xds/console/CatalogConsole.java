package io.meshguard.xds.console;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.extauthz.apikey.ApiKeyAdminApi;

/**
 * What the Approvals and Developer portal screens call: the catalogue's store for reads (scoped to the caller's
 * tenants, row-level security included) and, for every change, the admin APIs' own operations — the catalogue's
 * ({@link CatalogApi#invokeAdmitted}) and the API keys' ({@link ApiKeyAdminApi#invokeAdmitted}) — so permissions,
 * tenant scoping and admin-trail rows are those of the API.
 * API keys made in the portal carry no roles, scopes or tier of their own: those are the bank's grant.
 */
public record CatalogConsole(CatalogStore store, CatalogApi catalog, ApiKeyAdminApi keys) {}
