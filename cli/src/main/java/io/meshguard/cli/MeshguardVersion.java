package io.meshguard.cli;

import picocli.CommandLine;

/** Reports the version Maven stamped into the jar manifest ("dev" when run from classes). */
final class MeshguardVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String version = Main.class.getPackage().getImplementationVersion();
        return new String[] {"meshguard " + (version == null ? "dev" : version)};
    }
}
