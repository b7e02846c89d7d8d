/**
 * What the subcommands share: the server command base, a server's audit wiring, the database and gRPC target
 * options, and the state file of the local stack {@code up} left running. The root package names every subcommand
 * ({@code Main}); the subcommands know this package, never the root.
 */
package io.meshguard.cli.common;
