package io.meshguard.cli.catalog;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Tenants (operators): the organisations that own APIs, products and applications, named by role bindings'
 * {@code tenant:NAME} scopes. Each verb is one admin API call as the signed-in caller, recorded in the admin trail.
 */
@Command(
        name = "tenant",
        mixinStandardHelpOptions = true,
        description = "Create and list tenants (docs/operate/onboard-a-tenant.md \"Tenants\").",
        subcommands = {TenantCommand.Create.class, TenantCommand.ListTenants.class})
public final class TenantCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Create a tenant; one that exists is left as it is (the answer says \"created\": false).")
    static final class Create implements Callable<Integer> {
        @Mixin
        CatalogCommand.Target target;

        @Parameters(
                index = "0",
                paramLabel = "ID",
                description = "Tenant id as role bindings name it (tenant:ID)," + " e.g. acme.")
        String id;

        @Option(names = "--display-name", description = "A name for people, e.g. \"ACME Corp\".")
        String displayName;

        @Override
        public Integer call() throws Exception {
            var body = CatalogCommand.object().put("id", id);
            if (displayName != null) {
                body.put("display_name", displayName);
            }
            return target.call("POST", "/v1/operator/tenants", body);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List every tenant.")
    static final class ListTenants implements Callable<Integer> {
        @Mixin
        CatalogCommand.Target target;

        @Override
        public Integer call() throws Exception {
            return target.call("GET", "/v1/operator/tenants", null);
        }
    }
}
