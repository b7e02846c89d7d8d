package io.meshguard.catalog.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.catalog.CatalogRefusal;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.GatewayServing;
import io.meshguard.catalog.GatewayServing.ServedOperation;
import io.meshguard.catalog.PlanLimitsJson;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.db.TenantScope;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API a customer buys with a product publish, from what is published and served: the publish host, the operations
 * its gateway group serves now (base path, version and operation path, method), the credential the publish takes and
 * the plans open to subscription with their limits. Read under the caller's tenants (row-level security), so another
 * tenant's private product, a draft publish or product, and a version only a draft has are as absent as a missing one.
 *
 * <p>A credentialed call carries its tenant in the credential (an API key's tenant, a client's {@code tenant} claim):
 * the document asks for no tenant header there. A publish without credentials still needs the policy's tenant header.
 */
public final class ProductApis {

    /** The API-key header of the shipped authorization policy ({@code settings.api_key_header}, policies/README.md). */
    public static final String API_KEY_HEADER = "x-api-key";
    /** The tenant header of the shipped header contract: what a call without a credential names its tenant with. */
    public static final String TENANT_HEADER = "x-tenant-id";

    private static final Pattern PARAMETER = Pattern.compile("\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final List<String> BODY_METHODS = List.of("POST", "PUT", "PATCH");

    /**
     * What one publish sells.
     *
     * @param plans the plans open to subscription
     * @param operations what the gateway serves now, in path order
     * @param tokenEndpoint where an OAuth2 client gets its tokens (client credentials); empty where no identity
     *     provider is configured
     */
    public record Sold(
            Product product,
            ProductPublish publish,
            List<Plan> plans,
            List<ServedOperation> operations,
            Optional<String> tokenEndpoint) {
        public Sold {
            plans = List.copyOf(plans);
            operations = List.copyOf(operations);
        }

        /** The URL every operation is called under. */
        public String server() {
            return "https://" + publish.host().name();
        }

        /** How the credential is sent, in words: what the portal says next to the operations. */
        public String credential() {
            return switch (publish.authMode()) {
                case APIKEY -> "API key in the " + API_KEY_HEADER + " header";
                case OAUTH2 ->
                    "OAuth2 access token (client credentials"
                            + tokenEndpoint.map(t -> " from " + t).orElse("") + ") as a bearer token";
                case NONE -> "none (open product): name your tenant in the " + TENANT_HEADER + " header";
            };
        }

        /**
         * A call a customer can copy: the host and path it calls, and a placeholder where its credential goes (never a
         * real secret). Path parameters stay {@code {name}} for the customer to fill in; {@code --globoff} keeps curl
         * from reading them as its own patterns.
         */
        public String exampleCall(ServedOperation op) {
            StringBuilder out = new StringBuilder();
            if (publish.authMode() == AuthMode.OAUTH2) {
                out.append("TOKEN=$(curl -s -u '<client id>:<client secret>' -d grant_type=client_credentials '")
                        .append(tokenEndpoint.orElse("<token endpoint>"))
                        .append("' | jq -r .access_token)\n");
            }
            out.append("curl --globoff -X ")
                    .append(op.method())
                    .append(" '")
                    .append(server())
                    .append(documentedPath(op.path()))
                    .append("'");
            switch (publish.authMode()) {
                case APIKEY -> out.append(" \\\n  -H '").append(API_KEY_HEADER).append(": <your API key>'");
                case OAUTH2 -> out.append(" \\\n  -H \"authorization: Bearer $TOKEN\"");
                case NONE -> out.append(" \\\n  -H '").append(TENANT_HEADER).append(": <your tenant id>'");
            }
            if (BODY_METHODS.contains(op.method())) {
                out.append(" \\\n  -H 'content-type: application/json' -d '{}'");
            }
            return out.toString();
        }
    }

    private final CatalogStore store;
    private final GatewayServing gateway;
    private final Supplier<Optional<String>> tokenEndpoint;

    /**
     * @param gateway tells which operations a publish's group serves now (the xDS controller)
     * @param tokenEndpoint the identity provider's token endpoint for OAuth2 publishes, asked per document (it is
     *     discovered once the identity provider answers)
     */
    public ProductApis(CatalogStore store, GatewayServing gateway, Supplier<Optional<String>> tokenEndpoint) {
        this.store = store;
        this.gateway = gateway;
        this.tokenEndpoint = tokenEndpoint;
    }

    /**
     * The API publish {@code publishId} sells, as {@code scope} may see it: a published publish of a published
     * product.
     *
     * @throws CatalogRefusal not found (404) otherwise, the same answer as for an id that does not exist
     */
    public Sold sold(TenantScope scope, String publishId) {
        ProductPublish publish = store.publish(scope, publishId)
                .filter(p -> p.state() == PublishState.PUBLISHED)
                .orElseThrow(() -> absent(publishId));
        Product product = store.product(scope, publish.productId())
                .filter(p -> p.state() == ProductState.PUBLISHED)
                .orElseThrow(() -> absent(publishId));
        List<Plan> plans = store.plans(scope, product.id()).stream()
                .filter(p -> p.state().acceptsSubscriptions())
                .filter(p -> p.authModes().contains(publish.authMode()))
                .toList();
        // the group is known only to the served set, read after the scoped reads said the caller may see the publish
        List<ServedOperation> operations = store.servedProducts().values().stream()
                .flatMap(List::stream)
                .filter(s -> s.publishId().equals(publish.id()))
                .findFirst()
                .map(this::served)
                .orElse(List.of());
        return new Sold(product, publish, plans, operations, tokenEndpoint.get());
    }

    private static CatalogRefusal absent(String publishId) {
        return new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "product publish " + publishId + " not found");
    }

    private List<ServedOperation> served(ServedProduct publish) {
        return gateway.servedOperations(publish).stream()
                .sorted(java.util.Comparator.comparing(ServedOperation::path).thenComparing(ServedOperation::method))
                .toList();
    }

    /** The OpenAPI 3.1 document of what {@code sold} sells. */
    public static ObjectNode openApi(Sold sold) {
        ObjectNode doc = CatalogJson.MAPPER.createObjectNode().put("openapi", "3.1.0");
        Product product = sold.product();
        ObjectNode info = doc.putObject("info")
                .put("title", product.name())
                .put("version", product.version())
                .put(
                        "description",
                        product.description().orElse(product.name()) + "\n\nCredential: " + sold.credential() + ".");
        info.put("x-meshguard-product", product.id())
                .put("x-meshguard-publish", sold.publish().id());
        product.docsUrl().ifPresent(u -> doc.putObject("externalDocs").put("url", u));
        doc.putArray("servers")
                .addObject()
                .put("url", sold.server())
                .put(
                        "description",
                        sold.publish().environment().label() + " on cluster "
                                + sold.publish().cluster());
        ObjectNode schemes = doc.putObject("components").putObject("securitySchemes");
        ArrayNode security = doc.putArray("security");
        switch (sold.publish().authMode()) {
            case APIKEY -> {
                schemes.putObject("apiKey")
                        .put("type", "apiKey")
                        .put("in", "header")
                        .put("name", API_KEY_HEADER)
                        .put("description", "An API key of your application; it names your tenant.");
                security.addObject().putArray("apiKey");
            }
            case OAUTH2 -> {
                if (sold.tokenEndpoint().isPresent()) {
                    ObjectNode flow = schemes.putObject("oauth2")
                            .put("type", "oauth2")
                            .put("description", "Your application's client; its tokens name your tenant.")
                            .putObject("flows")
                            .putObject("clientCredentials")
                            .put("tokenUrl", sold.tokenEndpoint().get());
                    flow.putObject("scopes");
                    security.addObject().putArray("oauth2");
                } else {
                    schemes.putObject("bearer")
                            .put("type", "http")
                            .put("scheme", "bearer")
                            .put("bearerFormat", "JWT")
                            .put("description", "An access token of your application's client; it names your tenant.");
                    security.addObject().putArray("bearer");
                }
            }
            case NONE -> {
                // an open product: the policy's tenant header is the only name of the caller's tenant
            }
        }
        ObjectNode paths = doc.putObject("paths");
        Set<String> ids = new HashSet<>();
        for (ServedOperation op : sold.operations()) {
            String path = documentedPath(op.path());
            ObjectNode item = paths.has(path) ? (ObjectNode) paths.get(path) : paths.putObject(path);
            String method = op.method().toLowerCase(Locale.ROOT);
            String id = op.operation() + "." + op.version();
            ObjectNode o = item.putObject(method)
                    .put("operationId", ids.add(id) ? id : id + "." + method)
                    .put("summary", op.operation() + " (" + op.version() + ")");
            if (op.deprecated()) {
                o.put("deprecated", true);
            }
            if (op.path().endsWith("*")) {
                o.put("x-meshguard-path-prefix", true)
                        .put("description", "Every path under " + path + " (a prefix operation).");
            }
            ArrayNode parameters = o.putArray("parameters");
            Matcher m = PARAMETER.matcher(path);
            while (m.find()) {
                parameters
                        .addObject()
                        .put("name", m.group(1))
                        .put("in", "path")
                        .put("required", true)
                        .putObject("schema")
                        .put("type", "string");
            }
            if (sold.publish().authMode() == AuthMode.NONE) {
                parameters
                        .addObject()
                        .put("name", TENANT_HEADER)
                        .put("in", "header")
                        .put("required", true)
                        .putObject("schema")
                        .put("type", "string");
            }
            ObjectNode responses = o.putObject("responses");
            responses.putObject("200").put("description", "The API's answer.");
            if (sold.publish().authMode() != AuthMode.NONE) {
                responses.putObject("401").put("description", "No credential, or one that is not valid.");
                responses
                        .putObject("403")
                        .put(
                                "description",
                                "No live subscription of your application, or a header naming another"
                                        + " tenant than your credential's.");
            }
            responses.putObject("429").put("description", "A limit of your plan is reached.");
            o.set("x-meshguard-limits", operationLimits(sold.plans(), op.operation()));
        }
        ArrayNode plans = doc.putArray("x-meshguard-limits");
        for (Plan p : sold.plans()) {
            ObjectNode plan = plans.addObject()
                    .put("plan", p.id())
                    .put("name", p.name())
                    .put("approval", p.approval() == Plan.Approval.AUTO ? "automatic" : "manual");
            plan.set("limits", PlanLimitsJson.write(p.limits()));
            plan.set("operation_limits", PlanLimitsJson.writeOperations(p.operationLimits()));
        }
        return doc;
    }

    /** Each plan's limits on one operation: the plan's own, then the operation's on top. */
    private static ArrayNode operationLimits(List<Plan> plans, String operation) {
        ArrayNode out = CatalogJson.MAPPER.createArrayNode();
        for (Plan p : plans) {
            ObjectNode row = out.addObject().put("plan", p.id());
            row.set("limits", PlanLimitsJson.write(p.limits()));
            PlanLimits own = p.operationLimits().get(operation);
            if (own != null) {
                row.set("operation", PlanLimitsJson.write(own));
            }
        }
        return out;
    }

    /** The path as an OpenAPI path key: a prefix operation's trailing {@code *} dropped. */
    static String documentedPath(String path) {
        return path.endsWith("*") ? path.substring(0, path.length() - 1) : path;
    }
}
