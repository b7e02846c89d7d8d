package io.meshguard.devstack;

import io.meshguard.cli.CliRun;

/** A {@link CliRun} of the developer's command line ({@link DevMain}: the shipped commands plus up, local, demo). */
public final class DevCliRun {
    private DevCliRun() {}

    public static CliRun of(String... args) {
        return CliRun.of(DevMain::execute, args);
    }
}
