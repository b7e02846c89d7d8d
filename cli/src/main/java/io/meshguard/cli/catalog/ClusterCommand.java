package io.meshguard.cli.catalog;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Clusters and their zone controllers (operators): register a cluster and get its zone's one-time token, revoke it,
 * choose the gateway groups it serves, and read the fleet. Each verb is admin API calls as the signed-in caller.
 */
@Command(
        name = "cluster",
        mixinStandardHelpOptions = true,
        description = "Clusters and their zone controllers (docs/operate/run-zones.md \"Run zones\").",
        subcommands = {
            ClusterCommand.Register.class,
            ClusterCommand.Revoke.class,
            ClusterCommand.Delete.class,
            ClusterCommand.Assign.class,
            ClusterCommand.Withdraw.class,
            ClusterCommand.Fleet.class
        })
public final class ClusterCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(
            name = "register",
            mixinStandardHelpOptions = true,
            description = "Declare (or update) a cluster and print a one-time registration token for its zone.")
    static final class Register implements Callable<Integer> {
        @Mixin
        CatalogCommand.Target target;

        @Option(names = "--name", required = true, description = "Cluster id (a DNS label), e.g. kr-seoul-prod.")
        String name;

        @Option(names = "--region", required = true, description = "Its region, e.g. kr-seoul.")
        String region;

        @Option(names = "--provider", description = "Cloud provider, e.g. aws.")
        String provider;

        @Option(
                names = "--group",
                description = "A gateway group the zone serves (repeatable); product publishes to"
                        + " the cluster add theirs.")
        List<String> groups = List.of();

        @Option(
                names = "--ttl-hours",
                defaultValue = "24",
                description = "How long the token may wait to be used" + " (1-24).")
        int ttlHours;

        @Override
        public Integer call() throws Exception {
            var cluster = CatalogCommand.object().put("region", region);
            if (provider != null) {
                cluster.put("provider", provider);
            }
            String id = CatalogCommand.encode(name);
            if (target.call("PUT", "/v1/operator/clusters/" + id, cluster) != 0) {
                return 1;
            }
            for (String g : groups) {
                if (target.call(
                                "PUT",
                                "/v1/operator/zones/" + id + "/groups/" + CatalogCommand.encode(g),
                                CatalogCommand.object())
                        != 0) {
                    return 1;
                }
            }
            int status = target.call(
                    "POST",
                    "/v1/operator/zones/" + id + "/registrations",
                    CatalogCommand.object().put("ttl_hours", ttlHours));
            if (status == 0) {
                System.out.println(
                        "Put the token in the zone's secret (zone.registration_token_file) and start it"
                                + " within " + ttlHours
                                + " h: see manifests/istio/zone/README.md. It registers one zone"
                                + " replica, once: run this again for each further replica (a pair needs two, one per pod name).");
            }
            return status;
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "Cut a cluster's zone off now: its stream is closed and its credentials refused.")
    static final class Revoke implements Callable<Integer> {
        @Mixin
        CatalogCommand.Target target;

        @Option(names = "--name", required = true, description = "Cluster id.")
        String name;

        @Override
        public Integer call() throws Exception {
            return target.call(
                    "POST", "/v1/operator/zones/" + CatalogCommand.encode(name) + "/revoke", CatalogCommand.object());
        }
    }

    @Command(
            name = "delete",
            mixinStandardHelpOptions = true,
            description = "Decommission a cluster (revoke its zone first); it leaves the fleet.")
    static final class Delete implements Callable<Integer> {
        @Mixin
        CatalogCommand.Target target;

        @Option(names = "--name", required = true, description = "Cluster id.")
        String name;

        @Option(names = "--reason", required = true)
        String reason;

        @Override
        public Integer call() throws Exception {
            return target.call(
                    "DELETE",
                    "/v1/operator/clusters/" + CatalogCommand.encode(name),
                    CatalogCommand.object().put("reason", reason));
        }
    }

    @Command(
            name = "assign",
            mixinStandardHelpOptions = true,
            description = "Serve a gateway group in a cluster (its zone receives the group's revisions).")
    static final class Assign implements Callable<Integer> {
        @Mixin
        CatalogCommand.Target target;

        @Option(names = "--name", required = true, description = "Cluster id.")
        String name;

        @Parameters(index = "0", paramLabel = "GROUP")
        String group;

        @Override
        public Integer call() throws Exception {
            return target.call(
                    "PUT",
                    "/v1/operator/zones/" + CatalogCommand.encode(name) + "/groups/" + CatalogCommand.encode(group),
                    CatalogCommand.object());
        }
    }

    @Command(
            name = "withdraw",
            mixinStandardHelpOptions = true,
            description = "Stop serving a gateway group in a cluster: the zone is told, and its nodes drop the group's"
                    + " configuration (the only way anything is removed from a zone).")
    static final class Withdraw implements Callable<Integer> {
        @Mixin
        CatalogCommand.Target target;

        @Option(names = "--name", required = true, description = "Cluster id.")
        String name;

        @Parameters(index = "0", paramLabel = "GROUP")
        String group;

        @Override
        public Integer call() throws Exception {
            return target.call(
                    "DELETE",
                    "/v1/operator/zones/" + CatalogCommand.encode(name) + "/groups/" + CatalogCommand.encode(group),
                    null);
        }
    }

    @Command(
            name = "fleet",
            mixinStandardHelpOptions = true,
            description = "Clusters → groups → nodes: zone links, applied revisions, drift, staleness.")
    static final class Fleet implements Callable<Integer> {
        @Mixin
        CatalogCommand.Target target;

        @Override
        public Integer call() throws Exception {
            return target.call("GET", "/v1/operator/fleet", null);
        }
    }
}
