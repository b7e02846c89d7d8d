package io.meshguard.catalog.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.catalog.PlanLimitsJson;
import io.meshguard.catalog.Tenant;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.Subscription;
import java.util.Collection;
import java.util.Locale;
import java.util.function.Function;

/** The catalogue's objects as the API shows them: explicit fields, lower-case states, no reflection. */
final class CatalogJson {
    static final ObjectMapper MAPPER = new ObjectMapper();

    private CatalogJson() {}

    static <T> ArrayNode list(Collection<T> values, Function<T, JsonNode> each) {
        ArrayNode out = MAPPER.createArrayNode();
        values.forEach(v -> out.add(each.apply(v)));
        return out;
    }

    static JsonNode cluster(Cluster c) {
        ObjectNode o = MAPPER.createObjectNode().put("id", c.id()).put("region", c.region());
        c.provider().ifPresent(p -> o.put("provider", p));
        ArrayNode caps = o.putArray("capabilities");
        c.capabilities().stream().sorted().forEach(caps::add);
        return o;
    }

    static JsonNode tenant(Tenant t) {
        ObjectNode o = MAPPER.createObjectNode().put("id", t.id());
        t.displayName().ifPresent(n -> o.put("display_name", n));
        return o;
    }

    static JsonNode product(Product p) {
        ObjectNode o = MAPPER.createObjectNode()
                .put("id", p.id())
                .put("tenant", p.tenant())
                .put("name", p.name())
                .put("version", p.version())
                .put("visibility", lower(p.visibility()))
                .put("state", lower(p.state()));
        p.description().ifPresent(d -> o.put("description", d));
        p.docsUrl().ifPresent(d -> o.put("docs_url", d));
        ArrayNode tags = o.putArray("tags");
        p.tags().forEach(tags::add);
        ArrayNode ops = o.putArray("operations");
        p.operations().forEach(op -> ops.addObject()
                .put("id", op.id())
                .put("api", op.api())
                .put("method", op.method())
                .put("path", op.path()));
        return o;
    }

    static JsonNode plan(Plan p) {
        ObjectNode o = MAPPER.createObjectNode()
                .put("id", p.id())
                .put("product", p.productId())
                .put("name", p.name())
                .put("state", lower(p.state()))
                .put("approval", lower(p.approval()));
        o.set("limits", PlanLimitsJson.write(p.limits()));
        o.set("operation_limits", PlanLimitsJson.writeOperations(p.operationLimits()));
        ArrayNode modes = o.putArray("auth_modes");
        p.authModes().stream().map(CatalogJson::lower).sorted().forEach(modes::add);
        return o;
    }

    /** A plan-change request with its limits before and requested, and its report when computed. */
    static JsonNode planChange(io.meshguard.catalog.PlanChangeRequest r) {
        ObjectNode o = MAPPER.createObjectNode()
                .put("id", r.id())
                .put("plan", r.planId())
                .put("tenant", r.tenant())
                .put("state", lower(r.state()))
                .put("requested_by", r.requestedBy())
                .put("requested_at", r.requestedAt().toString())
                .put("reason", r.reason());
        ObjectNode before = o.putObject("before");
        before.set("limits", PlanLimitsJson.write(r.limitsBefore()));
        before.set("operation_limits", PlanLimitsJson.writeOperations(r.operationLimitsBefore()));
        ObjectNode requested = o.putObject("requested");
        requested.set("limits", PlanLimitsJson.write(r.limits()));
        requested.set("operation_limits", PlanLimitsJson.writeOperations(r.operationLimits()));
        o.put("report_current", r.reportCurrent());
        r.report().ifPresent(rep -> {
            ObjectNode report = o.putObject("report");
            report.put("computed_at", rep.computedAt().toString())
                    .put("decisions", rep.decisions())
                    .put("flipped", rep.flipped())
                    .put("not_replayable", rep.notReplayable())
                    .put("text", rep.text());
            report.set("detail", rep.detail());
        });
        r.decidedBy().ifPresent(d -> o.put("decided_by", d));
        r.decidedAt().ifPresent(d -> o.put("decided_at", d.toString()));
        r.decisionReason().ifPresent(d -> o.put("decision_reason", d));
        return o;
    }

    static JsonNode publish(ProductPublish p) {
        return MAPPER.createObjectNode()
                .put("id", p.id())
                .put("product", p.productId())
                .put("cluster", p.cluster())
                .put("environment", p.environment().label())
                .put("auth_mode", lower(p.authMode()))
                .put("state", lower(p.state()))
                .put("host", p.host().name());
    }

    static JsonNode application(Application a) {
        return MAPPER.createObjectNode()
                .put("id", a.id())
                .put("tenant", a.tenant())
                .put("name", a.name())
                .put("state", lower(a.state()));
    }

    static JsonNode subscription(Subscription s) {
        return MAPPER.createObjectNode()
                .put("id", s.id())
                .put("application", s.applicationId())
                .put("product_publish", s.publishId())
                .put("plan", s.planId())
                .put("state", lower(s.state()));
    }

    static JsonNode credential(Credential c) {
        ObjectNode o = MAPPER.createObjectNode()
                .put("id", c.id())
                .put("kind", lower(c.kind()))
                .put("application", c.applicationId())
                .put("state", lower(c.state()));
        c.expiresAt().ifPresent(t -> o.put("expires_at", t.toString()));
        c.overlapEndsAt().ifPresent(t -> o.put("overlap_ends_at", t.toString()));
        ArrayNode subs = o.putArray("subscriptions");
        c.subscriptionIds().stream().sorted().forEach(subs::add);
        return o;
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
