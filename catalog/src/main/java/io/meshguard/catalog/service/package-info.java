/**
 * What every typed catalogue service takes and throws: the call the admin gate admitted, and the refusal that carries
 * the status the REST API answers. The services ({@code api.CatalogService}, {@code apikey.ApiKeyAdmin}, …) share
 * these, so neither of their packages needs the other's.
 */
package io.meshguard.catalog.service;
