package io.meshguard.cli.xds;

import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.validate.ConfigValidator;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshguard xds apply FILE.yaml}: the file is the desired gateway configuration (GitOps). Validated locally
 * with file:line errors, then sent to the controller's admin API, which validates again and replaces its draft;
 * {@code --publish} publishes it in the same step.
 */
@Command(
        name = "apply",
        mixinStandardHelpOptions = true,
        description = "Apply a declarative gateway-config file (groups, upstreams, apis, routes) to a controller.")
public final class XdsApplyCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FILE.yaml", description = "The whole desired configuration.")
    Path file;

    @Mixin
    AdminOptions admin;

    @Option(names = "--publish", description = "Publish after applying.")
    boolean publish;

    @Option(
            names = "--reason",
            defaultValue = "meshguard xds apply",
            description = "Reason recorded with the revision.")
    String reason;

    @Option(names = "--dry-run", description = "Only validate the file; contact no controller.")
    boolean dryRun;

    @Option(
            names = "--policies",
            paramLabel = "DIR",
            description =
                    "Also refuse routes naming an authz rule or DLP "
                            + "profile that DIR/authz.yaml or DIR/dlp.yaml lack (the controller checks its own policy files again).")
    Path policies;

    @Override
    public Integer call() throws Exception {
        Optional<ConfigValidator> validator = policies == null
                ? Optional.of(new ConfigValidator())
                : GatewayFile.checkingProfiles(policies, System.err::println);
        if (validator.isEmpty()) {
            System.err.println(file + ": nothing applied");
            return 1;
        }
        Optional<GatewayConfig> read = GatewayFile.readValid(file, validator.get(), System.err::println);
        if (read.isEmpty()) {
            System.err.println(file + ": nothing applied");
            return 1;
        }
        GatewayConfig config = read.get();
        if (dryRun) {
            System.out.println(file + ": valid (" + config.groups().size() + " groups, "
                    + config.routes().size() + " routes)");
            return 0;
        }
        AdminClient client = admin.client();
        HttpResponse<String> applied = client.send("PUT", "/config", ConfigJson.write(config));
        if (applied.statusCode() != 200) {
            System.err.println("apply refused (" + applied.statusCode() + "): " + applied.body());
            return 1;
        }
        System.out.println("applied " + file);
        if (publish) {
            HttpResponse<String> published = client.send(
                    "POST",
                    "/publish",
                    ConfigJson.mapper().createObjectNode().put("reason", reason).toString());
            if (published.statusCode() != 200) {
                System.err.println("publish refused (" + published.statusCode() + "): " + published.body());
                return 1;
            }
            System.out.println("published: " + published.body());
        }
        return 0;
    }
}
