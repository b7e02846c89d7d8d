package io.meshguard.runtime.config;

import java.util.List;

/**
 * A set of keys that belong together and the settings object read from them, e.g. the gRPC server keys and
 * {@code GrpcServerSettings}. Servers add groups to their {@link ConfigSchema}.
 *
 * @param <S> the settings type read from a loaded {@link Config}
 */
public interface ConfigGroup<S> {
    /** The keys of this group, in documentation order. */
    List<ConfigKey<?>> keys();

    /** Reads this group's settings from a config whose schema contains {@link #keys()}. */
    S read(Config config);
}
