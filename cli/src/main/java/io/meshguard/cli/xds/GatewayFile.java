package io.meshguard.cli.xds;

import io.meshguard.runtime.yaml.InvalidYamlException;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.ValidationResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** A declarative gateway-config file read and validated the way the controller will, problems told with file:line. */
final class GatewayFile {
    private GatewayFile() {}

    /**
     * Reads and validates {@code file}, printing every problem (warnings included) to {@code err}.
     *
     * @return the configuration, or empty when it does not parse or has errors
     */
    static Optional<GatewayConfig> readValid(Path file, PrintStream err) throws IOException {
        GatewayConfig config;
        try {
            config = GatewayYaml.read(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (InvalidYamlException e) {
            err.println(e.getMessage());
            return Optional.empty();
        }
        ValidationResult result = new ConfigValidator().validate(config);
        result.problems().forEach(p -> err.println(file + ": " + p));
        if (!result.valid()) {
            err.println(file + ": " + result.errors().size() + " error(s)");
            return Optional.empty();
        }
        return Optional.of(config);
    }
}
