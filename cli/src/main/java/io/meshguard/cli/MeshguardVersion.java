package io.meshguard.cli;

import io.meshguard.runtime.BuildInfo;
import picocli.CommandLine;

/**
 * {@code meshguard -V}: the version and commit the build stamped into runtime's build.properties ({@link BuildInfo}),
 * the same values the servers log at start and export as {@code meshguard_build_info}.
 */
final class MeshguardVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        BuildInfo build = BuildInfo.current();
        return new String[] {"meshguard " + build.version(), "commit " + build.commit(), "java " + build.java()};
    }
}
