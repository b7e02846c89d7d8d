package io.meshguard.xds.policy;

import io.meshguard.xds.validate.ProfileCatalog;
import java.nio.file.Path;

/**
 * Where the policies the servers load live: extauthz-server's {@code authz.yaml} and the DLP server's {@code dlp.yaml}.
 * Usually one directory ({@code xds.policies.dir}, the mounted ConfigMaps); {@code meshguard up} points the authz file
 * at the dev policy its extauthz loads.
 */
public record PolicyFileSet(Path authzFile, Path dlpFile) {
    public PolicyFileSet {
        authzFile = authzFile.toAbsolutePath().normalize();
        dlpFile = dlpFile.toAbsolutePath().normalize();
    }

    /** {@code authz.yaml} and {@code dlp.yaml} in one directory. */
    public static PolicyFileSet in(Path dir) {
        return new PolicyFileSet(dir.resolve(ProfileCatalog.AUTHZ_FILE), dir.resolve(ProfileCatalog.DLP_FILE));
    }

    @Override
    public String toString() {
        return authzFile.getParent().equals(dlpFile.getParent())
                ? authzFile.getParent().toString()
                : authzFile + " and " + dlpFile;
    }
}
