package io.meshguard.cli;

import java.util.List;

/**
 * Subcommands a jar on the class path adds to {@code meshguard}, found with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.meshguard.cli.AddedCommands}). The developer's jar (module devstack) adds {@code up},
 * {@code local} and {@code demo}; the shipped jar and the image have none, so what a pod runs carries no embedded
 * PostgreSQL, Redis or Keycloak.
 */
public interface AddedCommands {
    /** picocli command objects, each annotated with {@code @Command}. */
    List<Object> commands();
}
