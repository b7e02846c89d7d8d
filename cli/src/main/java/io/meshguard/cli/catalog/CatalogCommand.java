package io.meshguard.cli.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.cli.xds.AdminClient;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The catalogue's persona APIs ({@code /v1/provider|customer|operator/…}, docs/products.md) as verbs: one admin API
 * call each, as the signed-in caller (or the running {@code up}'s token), so the same permissions and admin trail
 * apply as to any other client. Prints the answer as JSON.
 */
@Command(
        name = "catalog",
        mixinStandardHelpOptions = true,
        description = "API products, plans, publishes, applications, subscriptions and credentials (docs/products.md).",
        subcommands = {
            CatalogCommand.Cluster.class,
            CatalogCommand.ProductVerbs.class,
            CatalogCommand.PlanVerbs.class,
            CatalogCommand.PublishVerbs.class,
            CatalogCommand.ApplicationVerbs.class,
            CatalogCommand.Subscribe.class,
            CatalogCommand.SubscriptionVerbs.class,
            CatalogCommand.CredentialVerbs.class
        })
public final class CatalogCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    /** Where the admin API is: {@code --url} (with {@code --token-file}, or the {@code meshguard login} token), else up's. */
    static final class Target {
        @Option(names = "--url", description = "Admin API base URL (default: the running `meshguard up`'s).")
        String url;

        @Option(
                names = "--token-file",
                description = "Bearer token file (default: `meshguard login`'s token, or up's).")
        Path tokenFile;

        @Option(
                names = "--data-dir",
                defaultValue = ".meshguard",
                description = "Where `meshguard up` keeps its state.")
        Path dataDir;

        /** Sends one call; prints the answer; 0 for 2xx, 1 otherwise (the error is on stderr). */
        int call(String method, String path, JsonNode body) throws Exception {
            AdminClient client = AdminClient.resolve(url, tokenFile, dataDir);
            HttpResponse<String> r = client.send(method, path, body == null ? null : JSON.writeValueAsString(body));
            if (r.statusCode() / 100 != 2) {
                System.err.println(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
                return 1;
            }
            JsonNode answer = r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
            System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer));
            if (r.statusCode() == 202
                    || r.headers().firstValue("x-meshguard-awaiting-approval").isPresent()) {
                System.out.println("(waits for a second person's approval: meshguard xds approvals list)");
            }
            return 0;
        }
    }

    static ObjectNode object() {
        return JSON.createObjectNode();
    }

    /** A body from a JSON or YAML file (YAML is a superset: one safe reader for both, no custom tags). */
    static JsonNode file(Path file) throws Exception {
        try (java.io.Reader in = java.nio.file.Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Object doc = new org.yaml.snakeyaml.Yaml(
                            new org.yaml.snakeyaml.constructor.SafeConstructor(new org.yaml.snakeyaml.LoaderOptions()))
                    .load(in);
            if (!(doc instanceof java.util.Map)) {
                throw new IllegalArgumentException(file + ": expected one object (a JSON or YAML mapping)");
            }
            return JSON.valueToTree(doc);
        }
    }

    static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static ObjectNode withReason(ObjectNode body, String reason) {
        return reason == null ? body : body.put("reason", reason);
    }

    @Command(
            name = "cluster",
            mixinStandardHelpOptions = true,
            description = "Declare a cluster products can be published to (operators).")
    static final class Cluster implements Callable<Integer> {
        @Mixin
        Target target;

        @Parameters(index = "0", description = "Cluster id (a DNS label).")
        String id;

        @Option(names = "--region", required = true, description = "Its region: the host's third label.")
        String region;

        @Option(names = "--provider", description = "Cloud provider.")
        String provider;

        @Option(
                names = "--group",
                paramLabel = "GROUP=TENANT,...",
                description = "A gateway group the cluster serves "
                        + "and the tenants whose products may be published into it (repeatable; GROUP= for none).")
        java.util.List<String> groups = new java.util.ArrayList<>();

        @Override
        public Integer call() throws Exception {
            ObjectNode body = object().put("region", region);
            if (provider != null) {
                body.put("provider", provider);
            }
            if (!groups.isEmpty()) {
                ObjectNode assigned = body.putObject("gateway_groups");
                for (String g : groups) {
                    int eq = g.indexOf('=');
                    com.fasterxml.jackson.databind.node.ArrayNode tenants =
                            assigned.putArray(eq < 0 ? g : g.substring(0, eq));
                    if (eq >= 0) {
                        java.util.Arrays.stream(g.substring(eq + 1).split(","))
                                .filter(t -> !t.isBlank())
                                .forEach(tenants::add);
                    }
                }
            }
            return target.call("PUT", "/v1/operator/clusters/" + encode(id), body);
        }
    }

    @Command(name = "product", mixinStandardHelpOptions = true, description = "Products (providers).")
    static final class ProductVerbs {
        @Command(name = "list", mixinStandardHelpOptions = true, description = "The tenant's products.")
        int list(@Mixin Target target) throws Exception {
            return target.call("GET", "/v1/provider/products", null);
        }

        @Command(
                name = "create",
                mixinStandardHelpOptions = true,
                description = "Create a draft product from a file: {id, tenant, name, visibility, operations: [...]}.")
        int create(@Mixin Target target, @Option(names = "--file", required = true) Path file) throws Exception {
            return target.call("POST", "/v1/provider/products", file(file));
        }

        @Command(
                name = "state",
                mixinStandardHelpOptions = true,
                description = "Publish, deprecate or retire a product.")
        int state(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "PRODUCT") String id,
                @Parameters(index = "1", paramLabel = "STATE") String state,
                @Option(names = "--reason") String reason)
                throws Exception {
            return target.call(
                    "POST",
                    "/v1/provider/products/" + encode(id) + "/state",
                    withReason(object().put("state", state), reason));
        }
    }

    @Command(
            name = "plan",
            mixinStandardHelpOptions = true,
            description = "A product's plans (providers).",
            subcommands = PlanChangeVerbs.class)
    static final class PlanVerbs {
        @Command(
                name = "limits",
                mixinStandardHelpOptions = true,
                description = "Edit the limits of a plan with no live subscription whose product is not published,"
                        + " from a file: {limits, operation_limits}. A guarded plan's limits: `plan change request`.")
        int limits(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "PLAN") String plan,
                @Option(names = "--file", required = true) Path file)
                throws Exception {
            return target.call("PUT", "/v1/provider/plans/" + encode(plan) + "/limits", file(file));
        }

        @Command(
                name = "create",
                mixinStandardHelpOptions = true,
                description =
                        "Create a staging plan from a file: {name, approval, auth_modes, limits, operation_limits}.")
        int create(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "PRODUCT") String product,
                @Option(names = "--file", required = true) Path file)
                throws Exception {
            return target.call("POST", "/v1/provider/products/" + encode(product) + "/plans", file(file));
        }

        @Command(
                name = "state",
                mixinStandardHelpOptions = true,
                description = "Publish, deprecate or close a plan (closing closes its subscriptions).")
        int state(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "PLAN") String plan,
                @Parameters(index = "1", paramLabel = "STATE") String state,
                @Option(names = "--reason") String reason)
                throws Exception {
            return target.call(
                    "POST",
                    "/v1/provider/plans/" + encode(plan) + "/state",
                    withReason(object().put("state", state), reason));
        }
    }

    @Command(
            name = "change",
            mixinStandardHelpOptions = true,
            description = "Four eyes on a guarded plan's limits: request with a replay report (who would now get 429,"
                    + " or no longer), show, approve (another person), reject (docs/products.md \"Plan changes\").")
    static final class PlanChangeVerbs {
        @Command(
                name = "request",
                mixinStandardHelpOptions = true,
                description = "Request new limits from a file: {limits, operation_limits} (left out: operation limits"
                        + " stay); prints the request and its replay report.")
        int request(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "PLAN") String plan,
                @Option(names = "--file", required = true) Path file,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            ObjectNode body = (ObjectNode) file(file);
            body.put("reason", reason);
            return withReport(target, "POST", "/v1/provider/plans/" + encode(plan) + "/change-requests", body);
        }

        @Command(name = "list", mixinStandardHelpOptions = true, description = "Plan-change requests, newest first.")
        int list(@Mixin Target target) throws Exception {
            return target.call("GET", "/v1/provider/plan-change-requests", null);
        }

        @Command(
                name = "show",
                mixinStandardHelpOptions = true,
                description = "A request with the limits before and requested, and its replay report.")
        int show(@Mixin Target target, @Parameters(index = "0", paramLabel = "ID") long id) throws Exception {
            return withReport(target, "GET", "/v1/provider/plan-change-requests/" + id, null);
        }

        @Command(
                name = "report",
                mixinStandardHelpOptions = true,
                description = "Compute a pending request's replay report again.")
        int report(@Mixin Target target, @Parameters(index = "0", paramLabel = "ID") long id) throws Exception {
            return withReport(target, "POST", "/v1/provider/plan-change-requests/" + id + "/report", object());
        }

        @Command(
                name = "approve",
                mixinStandardHelpOptions = true,
                description =
                        "Approve (not the requester; needs a report computed since the request): the limits apply.")
        int approve(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "ID") long id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return target.call(
                    "POST", "/v1/provider/plan-change-requests/" + id + "/approve", object().put("reason", reason));
        }

        @Command(
                name = "reject",
                mixinStandardHelpOptions = true,
                description = "Reject a request (its requester: withdraw it).")
        int reject(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "ID") long id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return target.call(
                    "POST", "/v1/provider/plan-change-requests/" + id + "/reject", object().put("reason", reason));
        }

        /** The call's JSON, then the report as text (its sentences are what the approver reads). */
        private static int withReport(Target target, String method, String path, JsonNode body) throws Exception {
            AdminClient client = AdminClient.resolve(target.url, target.tokenFile, target.dataDir);
            HttpResponse<String> r = client.send(method, path, body == null ? null : JSON.writeValueAsString(body));
            if (r.statusCode() / 100 != 2) {
                System.err.println(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
                return 1;
            }
            JsonNode answer = JSON.readTree(r.body());
            System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer));
            JsonNode report = answer.path("report");
            if (report.isMissingNode()) {
                System.out.println("no replay report yet: it cannot be approved before one is computed"
                        + " (meshguard catalog plan change report "
                        + answer.path("id").asText() + ")");
            } else {
                System.out.print(report.path("text").asText());
                System.out.println(
                        answer.path("report_current").asBoolean()
                                ? "report computed since the request: it may be approved by another person"
                                : "report older than the request: compute it again before approving");
            }
            return 0;
        }
    }

    @Command(
            name = "publish",
            mixinStandardHelpOptions = true,
            description = "Product publishes: a product on a cluster and environment, served as a gateway revision.")
    static final class PublishVerbs {
        @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a draft publish.")
        int create(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "PRODUCT") String product,
                @Option(names = "--cluster", required = true) String cluster,
                @Option(names = "--env", required = true, description = "dev, staging or prod") String env,
                @Option(names = "--auth-mode", required = true, description = "none, apikey or oauth2") String mode,
                @Option(names = "--group", required = true, description = "The gateway group that serves it.")
                        String group)
                throws Exception {
            return target.call(
                    "POST",
                    "/v1/provider/products/" + encode(product) + "/product-publishes",
                    object().put("cluster", cluster)
                            .put("environment", env)
                            .put("auth_mode", mode)
                            .put("gateway_group", group));
        }

        @Command(
                name = "state",
                mixinStandardHelpOptions = true,
                description =
                        "Publish or withdraw: one revision of its gateway group (a request where it is protected).")
        int state(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "PUBLISH") String publish,
                @Parameters(index = "1", paramLabel = "STATE") String state,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return target.call(
                    "POST",
                    "/v1/provider/product-publishes/" + encode(publish) + "/state",
                    withReason(object().put("state", state), reason));
        }
    }

    @Command(name = "application", mixinStandardHelpOptions = true, description = "Applications (customers).")
    static final class ApplicationVerbs {
        @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an application.")
        int create(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "ID") String id,
                @Option(names = "--name", required = true) String name,
                @Option(names = "--tenant", description = "Needed when you act for several tenants.") String tenant)
                throws Exception {
            ObjectNode body = object().put("id", id).put("name", name);
            if (tenant != null) {
                body.put("tenant", tenant);
            }
            return target.call("POST", "/v1/customer/applications", body);
        }

        @Command(name = "rename", mixinStandardHelpOptions = true, description = "Rename an application.")
        int rename(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(
                                names = "--name",
                                required = true,
                                description = "The new name; another application of the tenant may not have it.")
                        String name)
                throws Exception {
            ObjectNode body = object().put("name", name);
            return target.call("POST", "/v1/customer/applications/" + encode(id) + "/name", body);
        }

        @Command(
                name = "suspend",
                mixinStandardHelpOptions = true,
                description = "Suspend an application: every call it makes is refused, whatever its subscriptions.")
        int suspend(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return target.call(
                    "POST", "/v1/customer/applications/" + encode(id) + "/suspend", withReason(object(), reason));
        }

        @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a suspended application.")
        int resume(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return target.call(
                    "POST", "/v1/customer/applications/" + encode(id) + "/resume", withReason(object(), reason));
        }
    }

    @Command(
            name = "subscribe",
            mixinStandardHelpOptions = true,
            description = "Subscribe an application to a plan of a product publish (active, or pending approval).")
    static final class Subscribe implements Callable<Integer> {
        @Mixin
        Target target;

        @Option(names = "--application", required = true)
        String application;

        @Option(names = "--publish", required = true, description = "The product publish id.")
        String publish;

        @Option(names = "--plan", required = true)
        String plan;

        @Override
        public Integer call() throws Exception {
            return target.call(
                    "POST",
                    "/v1/customer/subscriptions",
                    object().put("application", application)
                            .put("product_publish", publish)
                            .put("plan", plan));
        }
    }

    @Command(
            name = "subscription",
            mixinStandardHelpOptions = true,
            description = "Approve, reject, suspend, resume, close, move to another plan, or show usage.")
    static final class SubscriptionVerbs {
        @Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve a pending subscription.")
        int approve(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return provider(target, id, "approve", reason);
        }

        @Command(name = "reject", mixinStandardHelpOptions = true, description = "Reject a pending subscription.")
        int reject(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return provider(target, id, "reject", reason);
        }

        @Command(name = "suspend", mixinStandardHelpOptions = true, description = "Suspend: every replica denies.")
        int suspend(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return provider(target, id, "suspend", reason);
        }

        @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a suspended subscription.")
        int resume(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return provider(target, id, "resume", reason);
        }

        @Command(name = "close", mixinStandardHelpOptions = true, description = "Close a subscription.")
        int close(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(names = "--reason", required = true) String reason,
                @Option(names = "--as", defaultValue = "provider", description = "provider or customer") String side)
                throws Exception {
            return target.call(
                    "POST",
                    "/v1/" + side(side) + "/subscriptions/" + encode(id) + "/close",
                    withReason(object(), reason));
        }

        @Command(
                name = "plan",
                mixinStandardHelpOptions = true,
                description = "Move to another plan, keeping the credentials and the quota used this period.")
        int plan(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "ID") String id,
                @Parameters(index = "1", paramLabel = "PLAN") String plan,
                @Option(names = "--reason", required = true) String reason,
                @Option(names = "--as", defaultValue = "provider", description = "provider or customer") String side)
                throws Exception {
            return target.call(
                    "POST",
                    "/v1/" + side(side) + "/subscriptions/" + encode(id) + "/plan",
                    withReason(object().put("plan", plan), reason));
        }

        @Command(
                name = "usage",
                mixinStandardHelpOptions = true,
                description = "Calls, refusals by reason and the quotas used of one subscription.")
        int usage(
                @Mixin Target target,
                @Parameters(paramLabel = "ID") String id,
                @Option(names = "--hours", defaultValue = "24") int hours,
                @Option(names = "--as", defaultValue = "provider", description = "provider or customer") String side)
                throws Exception {
            return target.call(
                    "GET", "/v1/" + side(side) + "/subscriptions/" + encode(id) + "/usage?hours=" + hours, null);
        }

        private static int provider(Target target, String id, String verb, String reason) throws Exception {
            return target.call(
                    "POST", "/v1/provider/subscriptions/" + encode(id) + "/" + verb, withReason(object(), reason));
        }

        private static String side(String side) {
            if (!side.equals("provider") && !side.equals("customer")) {
                throw new IllegalArgumentException("--as: provider or customer, got " + side);
            }
            return side;
        }
    }

    @Command(name = "credential", mixinStandardHelpOptions = true, description = "An application's credentials.")
    static final class CredentialVerbs {
        @Command(
                name = "bind",
                mixinStandardHelpOptions = true,
                description = "Bind an API key (by id) to an application, or create a Keycloak client (oauth2).")
        int bind(
                @Mixin Target target,
                @Option(names = "--application", required = true) String application,
                @Option(names = "--kind", required = true, description = "apikey or oauth2") String kind,
                @Option(names = "--id", description = "The API key id (apikey).") String id,
                @Option(
                                names = "--expires-at",
                                paramLabel = "TIME",
                                description =
                                        "When the binding ends (ISO-8601 with an offset, e.g. 2027-01-31T00:00:00Z);"
                                                + " after it calls are refused credential_expired.")
                        String expiresAt)
                throws Exception {
            ObjectNode body = object().put("application", application).put("kind", kind);
            if (id != null) {
                body.put("id", id);
            }
            if (expiresAt != null) {
                body.put("expires_at", expiresAt);
            }
            return target.call("POST", "/v1/customer/credentials", body);
        }

        @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a credential.")
        int revoke(
                @Mixin Target target,
                @Parameters(index = "0", paramLabel = "KIND") String kind,
                @Parameters(index = "1", paramLabel = "ID") String id,
                @Option(names = "--reason", required = true) String reason)
                throws Exception {
            return target.call(
                    "POST",
                    "/v1/customer/credentials/" + encode(kind) + "/" + encode(id) + "/revoke",
                    withReason(object(), reason));
        }
    }
}
