package io.meshguard.cli.common;

/**
 * A command that runs servers until it is stopped ({@code up}, {@code extauthz}, {@code dlp}, {@code xds},
 * {@code zone}, {@code audit receive}): it logs at {@code MESHGUARD_LOG_LEVEL} (INFO by default) for the cluster's log
 * pipeline. Every other command is a tool at a terminal and logs warnings and errors only unless
 * {@code MESHGUARD_LOG_LEVEL} says otherwise, so its answer is not buried under the libraries' start-up lines (the
 * database URL that Flyway logs once per connection pool, twice for {@code db status}).
 */
public interface ServerCommand {}
