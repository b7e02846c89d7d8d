package io.meshguard.cli.policy;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.cli.xds.GatewayFile;
import io.meshguard.runtime.policy.PolicyFiles;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.GatewayHopCharges;
import io.meshguard.xds.validate.ProfileCatalog;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code meshguard policy check|test DIR}: what the security team runs before a policy change is merged. */
@Command(
        name = "policy",
        mixinStandardHelpOptions = true,
        description = "Check and test policy files.",
        subcommands = {
            PolicyCommand.Check.class,
            PolicyCommand.Test.class,
            PolicyImpactCommand.class,
            io.meshguard.cli.xds.PolicyRequestsCommand.class
        })
public final class PolicyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(
                spec.commandLine(), "a subcommand is required (check, test, impact or requests)");
    }

    static List<PolicyKind> present(Path dir, PrintWriter err) {
        List<PolicyKind> kinds = new ArrayList<>();
        for (PolicyKind kind : PolicyKinds.all()) {
            if (Files.isRegularFile(kind.file(dir))) {
                kinds.add(kind);
            }
        }
        if (kinds.isEmpty()) {
            err.printf(
                    "meshguard policy: no policy files in %s (looked for %s)%n",
                    dir,
                    PolicyKinds.all().stream()
                            .map(k -> k.file(dir).getFileName().toString())
                            .toList());
        }
        return kinds;
    }

    @Command(
            name = "check",
            mixinStandardHelpOptions = true,
            description = "Validate every policy file in DIR; prints file:line errors, exit 1 when any.")
    static final class Check implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DIR", description = "Policy directory, e.g. policies/")
        Path dir;

        @Option(
                names = "--gateway",
                paramLabel = "FILE.yaml",
                description = "Also check a gateway configuration "
                        + "(the format of `meshguard xds apply`): every authz and DLP profile its routes name must be "
                        + "defined in DIR, as the xDS controller requires before it publishes; warns where a route's requests are "
                        + "charged by a quota or rate limit only at the sidecar behind the gateway.")
        Path gateway;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            List<PolicyKind> kinds = present(dir, err);
            if (kinds.isEmpty()) {
                return 1;
            }
            int problems = 0;
            for (PolicyKind kind : kinds) {
                List<String> errors = kind.check(dir);
                problems += errors.size();
                errors.forEach(err::println);
                if (errors.isEmpty()) {
                    kind.warnings(dir).forEach(w -> err.println("warning: " + w));
                    out.printf("ok  %s%n", kind.file(dir));
                }
            }
            if (gateway != null && problems == 0) {
                problems += checkGateway(out, err);
            }
            out.flush();
            err.flush();
            return problems == 0 ? 0 : 1;
        }

        private int checkGateway(PrintWriter out, PrintWriter err) {
            Optional<ConfigValidator> validator = GatewayFile.checkingProfiles(dir, err::println);
            try {
                Optional<GatewayConfig> config = validator.isPresent()
                        ? GatewayFile.readValid(gateway, validator.get(), err::println)
                        : Optional.empty();
                if (config.isPresent()) {
                    AuthzPolicy authz =
                            new AuthzPolicyFiles().parse(PolicyFiles.read(dir.resolve(ProfileCatalog.AUTHZ_FILE)));
                    GatewayHopCharges.check(config.get(), authz).forEach(p -> err.println(gateway + ": " + p));
                    out.printf("ok  %s (every route's profiles are defined in %s)%n", gateway, dir);
                    return 0;
                }
            } catch (IOException e) {
                err.printf("%s: cannot read: %s%n", gateway, e.getMessage());
            } catch (PolicyInvalidException e) {
                e.errors().forEach(x -> err.println(x.toString())); // checked above: only a file changed meanwhile
            }
            return 1;
        }
    }

    @Command(
            name = "test",
            mixinStandardHelpOptions = true,
            description = "Run the test cases in DIR/tests/; ends with 'N passed, M failed', exit 1 when any failed.")
    static final class Test implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "DIR", description = "Policy directory, e.g. policies/")
        Path dir;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            List<PolicyKind> kinds = present(dir, spec.commandLine().getErr());
            int passed = 0;
            int failed = kinds.isEmpty() ? 1 : 0;
            for (PolicyKind kind : kinds) {
                for (PolicyTestResult r : kind.test(dir)) {
                    if (r.passed()) {
                        passed++;
                        out.printf("PASS  %s  %s: %s%n", r.kind(), r.file(), r.name());
                        if (!r.message().isEmpty()) {
                            out.printf("      %s%n", r.message());
                        }
                    } else {
                        failed++;
                        out.printf("FAIL  %s  %s: %s%n      %s%n", r.kind(), r.file(), r.name(), r.message());
                    }
                }
            }
            out.printf("%d passed, %d failed%n", passed, failed);
            out.flush();
            return failed == 0 ? 0 : 1;
        }
    }
}
