package io.meshguard.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link SubscriptionSnapshot} as the JSON tree the controller pushes to extauthz replicas (inside a
 * {@code google.protobuf.Struct}). It carries ids and states only: API key ids, never their hashes or secrets.
 * Decoding validates as the constructors do, so a replica refuses (NACKs) a snapshot it could not decide from.
 */
public final class SnapshotJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private SnapshotJson() {}

    /** The snapshot as the subscription-state stream's one resource: this tree inside a {@code Struct}. */
    public static Any resource(SubscriptionSnapshot snapshot) {
        Struct.Builder struct = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(encode(snapshot).toString(), struct);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("snapshot JSON is not a Struct", e);
        }
        return Any.pack(struct.build());
    }

    /**
     * The snapshot the subscription-state stream's resource carries.
     *
     * @throws IllegalArgumentException naming what is wrong (the caller NACKs with it)
     */
    public static SubscriptionSnapshot fromResource(Any resource) {
        try {
            Struct struct = resource.unpack(Struct.class);
            return decode(JSON.readTree(JsonFormat.printer().print(struct)));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("the resource is not a google.protobuf.Struct: " + e.getMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("the resource is not JSON: " + e.getMessage());
        }
    }

    public static ObjectNode encode(SubscriptionSnapshot s) {
        ObjectNode o = JSON.createObjectNode().put("version", s.version());
        ArrayNode pubs = o.putArray("publishes");
        s.publishes().forEach(p -> pubs.addObject()
                .put("id", p.id())
                .put("product", p.productId())
                .put("cluster", p.cluster())
                .put("environment", lower(p.environment()))
                .put("auth_mode", lower(p.authMode()))
                .put("state", lower(p.state()))
                .put("host", p.host().name()));
        ArrayNode plans = o.putArray("plans");
        s.plans().forEach(p -> {
            ObjectNode n = plans.addObject()
                    .put("id", p.id())
                    .put("product", p.productId())
                    .put("name", p.name())
                    .put("state", lower(p.state()))
                    .put("approval", lower(p.approval()));
            n.set("limits", PlanLimitsJson.write(p.limits()));
            n.set("operation_limits", PlanLimitsJson.writeOperations(p.operationLimits()));
            ArrayNode modes = n.putArray("auth_modes");
            p.authModes().stream().map(SnapshotJson::lower).sorted().forEach(modes::add);
        });
        ArrayNode apps = o.putArray("applications");
        s.applications().forEach(a -> apps.addObject()
                .put("id", a.id())
                .put("tenant", a.tenant())
                .put("name", a.name())
                .put("state", lower(a.state())));
        ArrayNode creds = o.putArray("credentials");
        s.credentials().forEach(c -> {
            ObjectNode n = creds.addObject()
                    .put("id", c.id())
                    .put("kind", lower(c.kind()))
                    .put("application", c.applicationId())
                    .put("state", lower(c.state()));
            c.expiresAt().ifPresent(t -> n.put("expires_at", t.toString()));
            c.overlapEndsAt().ifPresent(t -> n.put("overlap_ends_at", t.toString()));
            ArrayNode subs = n.putArray("subscriptions");
            c.subscriptionIds().stream().sorted().forEach(subs::add);
        });
        ArrayNode subs = o.putArray("subscriptions");
        s.subscriptions().forEach(x -> subs.addObject()
                .put("id", x.id())
                .put("application", x.applicationId())
                .put("publish", x.publishId())
                .put("plan", x.planId())
                .put("state", lower(x.state())));
        return o;
    }

    /**
     * @throws IllegalArgumentException naming the first field that is missing or wrong
     */
    public static SubscriptionSnapshot decode(JsonNode o) {
        List<ProductPublish> pubs = new ArrayList<>();
        for (JsonNode p : array(o, "publishes")) {
            pubs.add(new ProductPublish(
                    text(p, "id"),
                    text(p, "product"),
                    text(p, "cluster"),
                    upper(Environment.class, text(p, "environment")),
                    upper(AuthMode.class, text(p, "auth_mode")),
                    upper(PublishState.class, text(p, "state")),
                    new PublishHost(text(p, "host"))));
        }
        List<Plan> plans = new ArrayList<>();
        for (JsonNode p : array(o, "plans")) {
            Set<AuthMode> modes = EnumSet.noneOf(AuthMode.class);
            p.path("auth_modes").forEach(m -> modes.add(upper(AuthMode.class, m.asText())));
            plans.add(new Plan(
                    text(p, "id"),
                    text(p, "product"),
                    text(p, "name"),
                    upper(PlanState.class, text(p, "state")),
                    PlanLimitsJson.parse(p.get("limits"), "limits"),
                    PlanLimitsJson.parseOperations(p.get("operation_limits"), "operation_limits"),
                    upper(Plan.Approval.class, text(p, "approval")),
                    modes));
        }
        List<Application> apps = new ArrayList<>();
        for (JsonNode a : array(o, "applications")) {
            apps.add(new Application(
                    text(a, "id"),
                    text(a, "tenant"),
                    text(a, "name"),
                    upper(ApplicationState.class, text(a, "state"))));
        }
        List<Credential> creds = new ArrayList<>();
        for (JsonNode c : array(o, "credentials")) {
            Set<String> subs = new HashSet<>();
            c.path("subscriptions").forEach(s -> subs.add(s.asText()));
            creds.add(new Credential(
                    text(c, "id"),
                    upper(AuthMode.class, text(c, "kind")),
                    text(c, "application"),
                    upper(CredentialState.class, text(c, "state")),
                    instant(c, "expires_at"),
                    instant(c, "overlap_ends_at"),
                    subs));
        }
        List<Subscription> subs = new ArrayList<>();
        for (JsonNode s : array(o, "subscriptions")) {
            subs.add(new Subscription(
                    text(s, "id"),
                    text(s, "application"),
                    text(s, "publish"),
                    text(s, "plan"),
                    upper(SubscriptionState.class, text(s, "state"))));
        }
        JsonNode version = o.path("version");
        if (!version.canConvertToLong()) {
            throw new IllegalArgumentException("version: required whole number");
        }
        return new SubscriptionSnapshot(version.asLong(), pubs, plans, apps, creds, subs);
    }

    private static Iterable<JsonNode> array(JsonNode o, String field) {
        JsonNode a = o.path(field);
        if (!a.isArray()) {
            throw new IllegalArgumentException(field + ": required list");
        }
        return a;
    }

    private static String text(JsonNode o, String field) {
        JsonNode v = o.path(field);
        if (!v.isTextual()) {
            throw new IllegalArgumentException(field + ": required text");
        }
        return v.asText();
    }

    private static Optional<Instant> instant(JsonNode o, String field) {
        return o.hasNonNull(field) ? Optional.of(Instant.parse(o.get(field).asText())) : Optional.empty();
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static <E extends Enum<E>> E upper(Class<E> type, String name) {
        try {
            return Enum.valueOf(type, name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(type.getSimpleName() + ": unknown value '" + name + "'");
        }
    }
}
