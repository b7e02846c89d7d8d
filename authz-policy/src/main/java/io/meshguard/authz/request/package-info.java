/**
 * What one Check is about and what it came to, independent of the engine that decides it: the request as the engine
 * reads it ({@link io.meshguard.authz.request.HttpRequestView}, its MCP headers, its canonical host), who called
 * ({@link io.meshguard.authz.request.Identity}, {@link io.meshguard.authz.request.AuthResult}) and the outcome
 * ({@link io.meshguard.authz.request.Decision}, {@link io.meshguard.authz.request.Reason}). Every other package of the
 * module builds on these values; they use none of its packages.
 */
package io.meshguard.authz.request;
