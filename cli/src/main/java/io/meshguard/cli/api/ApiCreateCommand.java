package io.meshguard.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.cli.xds.AdminOptions;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code meshguard api create NAME --group G --upstream-url URL --operation 'GET /x' …}: a tenant's upstream, API and
 * one route per operation in the draft, through the admin API's own {@code PUT}s as the caller (its permissions, its
 * tenant checks, its admin trail), then optionally a publish of the group. Each object is read first and written only
 * when it differs, so a second run of the same command changes nothing and says so.
 */
@Command(
        name = "create",
        mixinStandardHelpOptions = true,
        sortOptions = false,
        description = {
            "Create or update an API in a gateway group's draft: its upstream (from --upstream-url), the API with the"
                    + " version, and one route per --operation, through the admin API as you (its permissions apply).",
            "",
            "Re-running the same command changes nothing. --dry-run prints the objects without calling;"
                    + " --publish --reason R publishes the group afterwards (four eyes apply where configured).",
            "",
            "Example: meshguard api create payments --group demo --upstream-url https://core.bank.example:8443"
                    + " --operation 'GET /balances' --operation 'POST /transfers' --authz-profile payments-read"
        })
public final class ApiCreateCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = ConfigJson.mapper();

    @Mixin
    ApiPlacement placement;

    @Option(
            names = "--upstream-url",
            required = true,
            paramLabel = "URL",
            description = "The backend: http://host:port or https://host:port (https: verified TLS, the host as SNI).")
    String upstreamUrl;

    @Option(names = "--base-path", paramLabel = "PATH", description = "The API's base path (default: /NAME).")
    Optional<String> basePath = Optional.empty();

    @Option(
            names = "--api-version",
            paramLabel = "VERSION",
            defaultValue = "v1",
            description = "The version the routes serve (default: ${DEFAULT-VALUE}).")
    String version;

    @Option(
            names = "--host",
            paramLabel = "HOST",
            description =
                    "A hostname of the API (repeatable; default: the group's, or the one its template generates).")
    List<String> hosts = new ArrayList<>();

    @Option(
            names = {"--operation", "-o"},
            required = true,
            paramLabel = "'METHOD PATH'",
            description = "An operation, relative to base path and version: 'GET /balances', 'GET /balances/{id}' (one"
                    + " segment), 'GET /statements*' (a prefix). Repeatable; one route each.")
    List<String> operations = new ArrayList<>();

    @Option(
            names = "--authz-profile",
            required = true,
            paramLabel = "RULE",
            description = "The authz.yaml rule that decides the routes' requests (required: a route names its rule).")
    String authzProfile;

    @Option(
            names = "--dlp-profile",
            paramLabel = "PROFILE",
            description = "The dlp.yaml profile the routes name (default: default).")
    Optional<String> dlpProfile = Optional.empty();

    @Option(
            names = "--tenant",
            paramLabel = "TENANT",
            description = "The tenant that owns new objects (needed when you act for several, or at system scope).")
    Optional<String> tenant = Optional.empty();

    @Option(
            names = "--publish",
            description =
                    "Publish the group afterwards (POST /groups/GROUP/publish, as `meshguard xds publish --group`).")
    boolean publish;

    @Option(
            names = "--reason",
            paramLabel = "TEXT",
            description = "Why (recorded with the revision; needed with --publish).")
    Optional<String> reason = Optional.empty();

    @Option(names = "--dry-run", description = "Print the objects as JSON and call nothing.")
    boolean dryRun;

    @Mixin
    AdminOptions admin;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The API's name, group and upstream's name, from {@link #placement}. */
    private String name;

    private String group;
    private Optional<String> upstreamName = Optional.empty();

    /** How the admin API's problems name this command's objects: {@code upstreams[x]}, {@code apis[x]}, {@code routes[g/x]}. */
    private List<String> ownPaths = List.of();

    /** One object of the spec and what happened to it. */
    private record Step(String kind, String name, String path, String outcome) {}

    @Override
    public Integer call() throws Exception {
        name = placement.name;
        group = placement.group;
        upstreamName = placement.upstream;
        ApiSpec asked;
        try {
            asked = ApiSpec.of(
                    name,
                    group,
                    upstreamUrl,
                    upstreamName,
                    basePath,
                    version,
                    hosts,
                    operations,
                    authzProfile,
                    dlpProfile);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (publish && reason.filter(r -> !r.isBlank()).isEmpty()) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--publish needs --reason TEXT (recorded with the revision)");
        }
        if (dryRun) {
            ObjectNode out = JSON.createObjectNode();
            tenant.ifPresent(t -> out.put("tenant", t));
            out.set("upstream", JSON.valueToTree(asked.upstream()));
            out.set("api", JSON.valueToTree(asked.api()));
            out.set("routes", JSON.valueToTree(asked.routes()));
            System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(out));
            System.out.println("(dry run: nothing was sent)");
            return 0;
        }
        ownPaths = java.util.stream.Stream.concat(
                        java.util.stream.Stream.of(
                                "upstreams[" + asked.upstream().name() + "]", "apis[" + name + "]"),
                        asked.routes().stream().map(r -> "routes[" + group + "/" + r.name() + "]"))
                .toList();
        AdminClient client = admin.client();
        List<Step> done = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        String query = tenant.map(t -> "?tenant=" + AdminOptions.segment(t)).orElse("");

        // the upstream and the API first: a route may only name objects that exist
        String upstreamPath = "/upstreams/" + seg(asked.upstream().name());
        Step failed = step(
                client,
                "upstream",
                asked.upstream().name(),
                upstreamPath,
                query,
                Upstream.class,
                asked::upstreamOver,
                done,
                warnings);
        java.util.concurrent.atomic.AtomicReference<Api> api =
                new java.util.concurrent.atomic.AtomicReference<>(asked.api());
        if (failed == null) {
            failed = step(
                    client,
                    "api",
                    name,
                    "/apis/" + seg(name),
                    query,
                    Api.class,
                    stored -> {
                        api.set(asked.apiOver(stored));
                        return api.get();
                    },
                    done,
                    warnings);
        }
        for (int i = 0; failed == null && i < asked.routes().size(); i++) {
            Route route = asked.routes().get(i);
            failed = step(
                    client,
                    "route",
                    group + "/" + route.name(),
                    "/routes/" + seg(group) + "/" + seg(route.name()),
                    query,
                    Route.class,
                    stored -> asked.routeOver(route, stored, dlpProfile.isPresent()),
                    done,
                    warnings);
        }
        if (failed != null) {
            return afterFailure(failed, done);
        }
        int width = done.stream().mapToInt(s -> s.name().length()).max().orElse(0) + 2;
        for (Step s : done) {
            System.out.printf("%-9s%-" + width + "s%s%n", s.kind(), s.name(), s.outcome());
        }
        warnings.forEach(w -> System.out.println("warning: " + w));
        boolean changed = done.stream().anyMatch(s -> !"unchanged".equals(s.outcome()));
        if (!changed) {
            System.out.println("api " + name + ": unchanged (the upstream, the API and "
                    + asked.routes().size() + " route(s) are as asked)");
        }
        printWhereItAnswers(client, asked, api.get());
        if (publish) {
            return publish(client);
        }
        System.out.println("next: publish the group so its gateways serve the routes (group " + group
                + "'s draft holds them): meshguard xds publish --group " + group + " --reason \"...\"");
        System.out.println("      then sell it: meshguard catalog product create --file product.yaml, operations like "
                + "{api: " + name + ", method: "
                + asked.operations().get(0).method().toLowerCase(java.util.Locale.ROOT)
                + ", path: " + asked.operations().get(0).path() + "} (docs/products.md)");
        return 0;
    }

    private static String seg(String s) {
        return AdminOptions.segment(s);
    }

    /**
     * Reads the object at {@code path} (404: absent, or not the caller's) and writes {@code wanted}'s answer to it when
     * that differs; records the outcome in {@code done}. Returns the step that was refused, or null.
     */
    private <T> Step step(
            AdminClient client,
            String kind,
            String objectName,
            String path,
            String query,
            Class<T> type,
            java.util.function.Function<Optional<T>, T> wanted,
            List<Step> done,
            List<String> warnings)
            throws IOException, InterruptedException {
        Optional<T> stored;
        HttpResponse<String> r;
        try {
            r = client.send("GET", path, null);
            if (r.statusCode() != 200 && r.statusCode() != 404) {
                return new Step(
                        kind,
                        objectName,
                        path,
                        "could not be read: refused (" + r.statusCode() + "): "
                                + r.body().strip());
            }
            stored = r.statusCode() == 404 ? Optional.empty() : Optional.of(JSON.readValue(r.body(), type));
            T next = wanted.apply(stored);
            if (stored.isPresent() && stored.get().equals(next)) {
                done.add(new Step(kind, objectName, path, "unchanged"));
                return null;
            }
            r = client.send("PUT", path + query, JSON.writeValueAsString(next));
        } catch (IOException e) {
            return new Step(kind, objectName, path, "not written: " + e.getMessage());
        }
        if (r.statusCode() / 100 != 2) {
            String why = "refused (" + r.statusCode() + "): " + r.body().strip();
            if (r.statusCode() == 404 && stored.isEmpty()) {
                why += " (names are global: another tenant may hold it; choose another name"
                        + (kind.equals("upstream") ? " with --upstream" : "") + ")";
            }
            return new Step(kind, objectName, path, why);
        }
        done.add(new Step(kind, objectName, path, stored.isPresent() ? "updated" : "created"));
        // each answer's warnings describe the whole draft the caller sees: the last one's about this API's objects
        // count
        warnings.clear();
        for (JsonNode w : JSON.readTree(r.body()).path("warnings")) {
            String at = w.path("path").asText();
            String line = at + ": " + w.path("message").asText();
            if (concernsThisApi(at) && !warnings.contains(line)) {
                warnings.add(line);
            }
        }
        return null;
    }

    /** Whether a problem's path ({@code upstreams[x]}, {@code routes[group/x].api}, …) is about this command's objects. */
    private boolean concernsThisApi(String path) {
        return ownPaths.stream().anyMatch(path::startsWith);
    }

    /** What a refusal left behind: what exists of this command's objects, how to finish, how to remove. */
    private int afterFailure(Step failed, List<Step> done) {
        System.err.println(failed.kind() + " " + failed.name() + " " + failed.outcome());
        List<Step> made =
                done.stream().filter(s -> !"unchanged".equals(s.outcome())).toList();
        if (done.isEmpty()) {
            System.err.println("nothing was changed.");
            return 1;
        }
        System.err.println("in the draft now (not served until a publish of group " + group + "):");
        for (Step s : done) {
            System.err.println("  " + s.kind() + " " + s.name() + " (" + s.outcome() + ")");
        }
        System.err.println(
                "to finish: resolve the refusal and run the same command again (what exists is left as is).");
        if (!made.isEmpty()) {
            System.err.println("to remove what this run made: meshguard api delete " + name + " --group " + group
                    + upstreamName.map(u -> " --upstream " + u).orElse(""));
        }
        return 1;
    }

    /**
     * The URL clients call: the API's hosts (or its group's), the group's listener, base path and version. The group is
     * read only for a caller that named a tenant (system scope, or several tenants): a tenant's own people may not
     * read groups, and a refused read would be a denial in the admin trail at every run.
     */
    private void printWhereItAnswers(AdminClient client, ApiSpec asked, Api api)
            throws IOException, InterruptedException {
        String root = api.basePath() + "/" + asked.api().defaultVersion();
        HttpResponse<String> g = tenant.isPresent() ? client.send("GET", "/groups/" + seg(group), null) : null;
        if (g != null && g.statusCode() == 200) {
            GatewayGroup gg = JSON.readValue(g.body(), GatewayGroup.class);
            List<String> names = HostnamePlan.hostnames(gg, api);
            System.out.println("answers on: http://" + names.get(0) + ":" + gg.listenerPort() + root
                    + (names.size() > 1 ? " (and on " + String.join(", ", names.subList(1, names.size())) + ")" : "")
                    + " once group " + group + " is published");
        } else if (!api.hostnames().isEmpty()) {
            System.out.println("answers on: " + String.join(", ", api.hostnames()) + ", path " + root + ", once group "
                    + group + " is published");
        } else {
            System.out.println("answers on: group " + group + "'s hostnames, or the one it generates for the API"
                    + " ({api}.{env}.{region}.{domain} by default; --host names your own), path " + root
                    + ", once the group is published");
        }
        for (ApiSpec.Operation op : asked.operations()) {
            System.out.println("  " + op.method() + " " + asked.clientPath(op));
        }
    }

    private int publish(AdminClient client) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(
                "POST",
                "/groups/" + seg(group) + "/publish",
                JSON.createObjectNode().put("reason", reason.orElseThrow()).toString());
        if (r.statusCode() / 100 != 2) {
            System.err.println("publish of group " + group + " refused (" + r.statusCode() + "): "
                    + r.body().strip());
            System.err.println("the objects above are in the draft; someone who may publish group " + group
                    + " runs: meshguard xds publish --group " + group + " --reason \"...\"");
            return 1;
        }
        JsonNode answer = JSON.readTree(r.body());
        for (JsonNode request : answer.path("requests")) {
            System.out.println("publish request " + request.path("id").asLong() + " of group " + group
                    + " is pending: another person approves it (meshguard xds approvals show " + group + " "
                    + request.path("id").asLong() + ")");
        }
        for (JsonNode revision : answer.path("revisions")) {
            System.out.println("published: revision " + revision.path("id").asLong() + " of group "
                    + revision.path("group").asText(group));
        }
        if (answer.has("note")) {
            System.out.println(answer.path("note").asText());
        }
        return 0;
    }
}
