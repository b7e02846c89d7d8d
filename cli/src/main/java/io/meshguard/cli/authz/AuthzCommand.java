package io.meshguard.cli.authz;

import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.authz.request.Decision;
import io.meshguard.extauthz.tools.AuthzCheck;
import java.nio.file.Path;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard authz check}: one request through exactly the server's decision pipeline, offline;
 * {@code meshguard authz send}: one Check to the running extauthz.
 */
@Command(
        name = "authz",
        mixinStandardHelpOptions = true,
        description = "Authorization tools.",
        subcommands = {AuthzCommand.Check.class, AuthzSendCommand.class})
public final class AuthzCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (check, send)");
    }

    @Command(
            name = "check",
            mixinStandardHelpOptions = true,
            description = {
                "Decide one CheckRequest (Envoy's protobuf JSON) against DIR/authz.yaml and print "
                        + "{\"allowed\",\"status\",\"reason\",\"headers_set\",\"headers_append_action\",\"headers_removed\",\"body\"} "
                        + "(headers_append_action: Envoy's append_action per header set, e.g. "
                        + "OVERWRITE_IF_EXISTS_OR_ADD).",
                "",
                "Exit 0 when a decision was printed (allow or deny), 1 when the policy or input is unusable."
            })
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(
                names = "--policy",
                required = true,
                paramLabel = "DIR",
                description = "Policy directory holding authz.yaml.")
        Path policy;

        @Option(
                names = "--request",
                required = true,
                paramLabel = "REQ.json",
                description = "The CheckRequest as protobuf JSON.")
        Path request;

        @Option(
                names = "--jwks",
                paramLabel = "ISSUER=FILE",
                description =
                        "Use this local JWKS file for the issuer of that name instead of fetching its keys (repeatable).")
        Map<String, Path> jwks = new LinkedHashMap<>();

        @Option(
                names = "--now",
                paramLabel = "ISO-8601",
                description = "Decide as if it were this instant, e.g. 2026-11-21T10:00:00Z.")
        String now;

        @Override
        public Integer call() {
            Optional<Instant> at;
            try {
                at = Optional.ofNullable(now).map(Instant::parse);
            } catch (DateTimeParseException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--now: not an ISO-8601 instant: " + now);
            }
            try {
                Decision d = AuthzCheck.decide(policy, request, jwks, at);
                spec.commandLine().getOut().println(AuthzCheck.toJson(d));
                spec.commandLine().getOut().flush();
                return 0;
            } catch (PolicyInvalidException e) {
                spec.commandLine().getErr().println(e.getMessage());
                spec.commandLine().getErr().flush();
                return 1;
            } catch (AuthzCheck.InputException e) {
                spec.commandLine().getErr().println("meshguard authz check: " + e.getMessage());
                spec.commandLine().getErr().flush();
                return 1;
            }
        }
    }
}
