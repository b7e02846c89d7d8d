package io.meshguard.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Commands whose component is not part of this build yet. They are listed so that {@code meshguard --help} shows
 * the command tree the product has; running one says which component it waits for and exits 2 instead of
 * pretending to work. An entry leaves this list when its component lands with a real command class.
 */
final class PlannedCommands {
    /** Exit code for "this build has no such component". */
    static final int NOT_IN_THIS_BUILD = 2;

    private record Planned(String path, String description, String component) {}

    private static final List<Planned> PLANNED = List.of(
            new Planned("extauthz", "Run the ext_authz server (Envoy Check API).", "extauthz-server"),
            new Planned("authz", "Authorization tools.", "extauthz-server"),
            new Planned("authz check", "Decide one request offline against authz.yaml.", "extauthz-server"),
            new Planned("apikey", "Create, rotate, revoke and list API keys.", "extauthz-server"),
            new Planned("dlp", "Run the ext_proc DLP server.", "extproc-dlp-server"),
            new Planned("dlp scan", "Scan a file with the DLP rules.", "DLP engine"),
            new Planned("xds", "Run the xDS controller.", "xds-controller"),
            new Planned("xds render", "Print a gateway group's resources as Envoy JSON.", "xds-controller"),
            new Planned("xds apply", "Apply a declarative gateway-config file.", "xds-controller"),
            new Planned("audit", "Query and export the audit log.", "audit module"),
            new Planned("audit query", "Query audit events.", "audit module"),
            new Planned("audit export", "Export one month of audit events.", "audit module"),
            new Planned("policy", "Check and test policy files.", "policy engine"),
            new Planned("policy check", "Validate policy files with line-numbered errors.", "policy engine"),
            new Planned("policy test", "Run the test cases shipped with the policies.", "policy engine"));

    private PlannedCommands() {}

    /** Adds every planned command that the root does not already have as a real one. */
    static void addTo(CommandLine root) {
        for (Planned planned : PLANNED) {
            String[] names = planned.path().split(" ");
            CommandLine parent = root;
            for (int i = 0; i < names.length - 1; i++) {
                parent = parent.getSubcommands().get(names[i]);
            }
            String name = names[names.length - 1];
            if (parent.getSubcommands().containsKey(name)) {
                continue;
            }
            CommandSpec spec = CommandSpec.wrapWithoutInspection(notInThisBuild(planned));
            spec.name(name).usageMessage().description(planned.description() + " [planned]");
            spec.mixinStandardHelpOptions(true);
            parent.addSubcommand(name, new CommandLine(spec));
        }
    }

    private static Callable<Integer> notInThisBuild(Planned planned) {
        return () -> {
            System.err.printf(
                    "meshguard %s: the %s is not part of this build yet; `meshguard --help` lists what is.%n",
                    planned.path(), planned.component());
            return NOT_IN_THIS_BUILD;
        };
    }
}
