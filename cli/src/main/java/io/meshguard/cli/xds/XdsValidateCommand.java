package io.meshguard.cli.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * {@code meshguard xds validate FILE.yaml}: what the controller would say about a gateway-config file, without
 * changing anything: the file goes to the admin API's {@code POST /validate}, so the controller's own policy files and
 * platform checks apply (offline, {@code meshguard xds apply --dry-run} checks the file alone). Errors come first.
 */
@Command(
        name = "validate",
        mixinStandardHelpOptions = true,
        description =
                "Ask the controller to validate a gateway-config file (POST /validate); changes nothing. Exit 1 on an error.")
public final class XdsValidateCommand implements Callable<Integer> {
    @Parameters(
            index = "0",
            paramLabel = "FILE.yaml",
            description = "A gateway configuration in the format of `meshguard xds apply`.")
    Path file;

    @Mixin
    AdminOptions admin;

    @Override
    public Integer call() throws Exception {
        GatewayConfig config;
        try {
            config = GatewayYaml.read(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
        } catch (io.meshguard.runtime.yaml.InvalidYamlException e) {
            System.err.println(e.getMessage());
            return 1;
        }
        HttpResponse<String> r = admin.client().send("POST", "/validate", ConfigJson.write(config));
        if (r.statusCode() != 200) {
            System.err.println("validate failed (" + r.statusCode() + "): " + r.body());
            return 1;
        }
        List<JsonNode> problems = new ArrayList<>();
        ConfigJson.mapper().readTree(r.body()).forEach(problems::add);
        problems.sort(java.util.Comparator.comparingInt(XdsValidateCommand::rank));
        int errors = 0;
        for (JsonNode p : problems) {
            String severity = p.path("severity").asText().toLowerCase(java.util.Locale.ROOT);
            errors += severity.equals("error") ? 1 : 0;
            System.out.println(file + ": " + severity + " " + p.path("path").asText() + ": "
                    + p.path("message").asText() + " [" + p.path("code").asText() + "]");
        }
        System.out.println(file + ": " + (errors == 0 ? "valid" : errors + " error(s)") + " (" + problems.size()
                + " problem line(s))");
        return errors == 0 ? 0 : 1;
    }

    private static int rank(JsonNode problem) {
        return switch (problem.path("severity").asText().toUpperCase(java.util.Locale.ROOT)) {
            case "ERROR" -> 0;
            case "WARNING" -> 1;
            default -> 2;
        };
    }
}
