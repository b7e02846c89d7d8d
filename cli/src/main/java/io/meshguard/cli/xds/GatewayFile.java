package io.meshguard.cli.xds;

import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.yaml.InvalidYamlException;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.ProfileCatalog;
import io.meshguard.xds.validate.ProfileReferences;
import io.meshguard.xds.validate.ValidationResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

/** A declarative gateway-config file read and validated the way the controller will, problems told with file:line. */
public final class GatewayFile {
    private GatewayFile() {}

    /**
     * Reads and validates {@code file}, printing every problem (warnings included) to {@code err}.
     *
     * @return the configuration, or empty when it does not parse or has errors
     */
    static Optional<GatewayConfig> readValid(Path file, PrintStream err) throws IOException {
        return readValid(file, new ConfigValidator(), err::println);
    }

    /**
     * As {@link #readValid(Path, PrintStream)} with a given validator (one that checks the profiles routes name
     * against policy files, say), each problem line given to {@code err}.
     */
    public static Optional<GatewayConfig> readValid(Path file, ConfigValidator validator, Consumer<String> err)
            throws IOException {
        GatewayConfig config;
        try {
            config = GatewayYaml.read(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (InvalidYamlException e) {
            err.accept(e.getMessage());
            return Optional.empty();
        }
        ValidationResult result = validator.validate(config);
        // most severe first: an error must not scroll away behind a screen of info lines
        result.problems().stream()
                .sorted(java.util.Comparator.comparing(io.meshguard.xds.validate.Problem::severity))
                .forEach(p -> err.accept(file + ": " + p));
        if (!result.valid()) {
            err.accept(file + ": " + result.errors().size() + " error(s)");
            return Optional.empty();
        }
        return Optional.of(config);
    }

    /**
     * A validator that also refuses routes naming an authz rule or DLP profile the policies in {@code policiesDir}
     * lack; their own errors (file:line) go to {@code err}.
     *
     * @return empty when the policies themselves cannot be read
     */
    public static Optional<ConfigValidator> checkingProfiles(Path policiesDir, Consumer<String> err) {
        try {
            ProfileCatalog catalog = ProfileCatalog.read(policiesDir);
            return Optional.of(new ConfigValidator(new ProfileReferences(() -> Optional.of(catalog))));
        } catch (PolicyInvalidException e) {
            e.errors().forEach(x -> err.accept(x.toString()));
            return Optional.empty();
        } catch (IOException e) {
            err.accept(policiesDir + ": cannot read the policies: " + e.getMessage());
            return Optional.empty();
        }
    }
}
