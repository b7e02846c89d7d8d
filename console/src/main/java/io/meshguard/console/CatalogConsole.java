package io.meshguard.console;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.api.ApplicationKeys;
import io.meshguard.catalog.api.CatalogService;
import io.meshguard.catalog.api.PlanChanges;
import io.meshguard.catalog.api.ProductApis;

/**
 * What the Approvals and Developer portal screens call: the catalogue's store for reads (scoped to the caller's
 * tenants, row-level security included) and, for every change, the typed services the REST API adapts — the
 * catalogue's ({@link CatalogService}) and an application's API keys ({@link ApplicationKeys}, key and credential in
 * one transaction) and a guarded plan's limit changes ({@link PlanChanges}, the Plan changes screen) — so
 * permissions, tenant scoping and admin-trail rows are those of the API.
 * API keys made in the portal carry no roles, scopes or tier of their own: those are the bank's grant. What each
 * publish sells (operations, credential, OpenAPI document) is read as the catalogue API reads it ({@link ProductApis}).
 */
public record CatalogConsole(
        CatalogStore store, CatalogService catalog, ApplicationKeys keys, PlanChanges plans, ProductApis apis) {}
