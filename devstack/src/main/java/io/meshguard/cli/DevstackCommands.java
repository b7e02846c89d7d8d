package io.meshguard.cli;

import io.meshguard.cli.demo.DemoCommand;
import java.util.List;

/**
 * What the developer's jar adds to {@code meshguard}: {@code up} (the whole stack on an embedded PostgreSQL, a Redis
 * and optionally a Keycloak of its own), {@code local backup|restore} of up's data directory, and {@code demo}.
 */
public final class DevstackCommands implements AddedCommands {
    @Override
    public List<Object> commands() {
        return List.of(new UpCommand(), new LocalCommand(), new DemoCommand());
    }
}
