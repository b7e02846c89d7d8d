package io.meshguard.xds.zone;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminEvents;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.http.AdminEndpoint;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The operator's zone routes on the admin port: registration tokens, revocation, which groups a cluster serves, and
 * the fleet as clusters → groups → nodes. Every call passes the {@link AdminGate} for its route's permission; every
 * change is an {@link AdminEvent} in the admin trail (a token's digest, never the token).
 */
public final class ZoneAdminApi implements HttpHandler {
    private static final int MAX_BODY = 16 * 1024;

    @FunctionalInterface
    private interface Handler {
        JsonNode handle(ZoneAdminApi api, Call call);
    }

    /** Every operation with its permission, summary, status and handler: admission and dispatch read this table. */
    private static final AdminOperations<Handler> OPERATIONS = AdminOperations.of(
            AdminOperation.created(
                    AdminRoute.system("POST", "/v1/operator/zones/{cluster}/registrations", "cluster:register"),
                    "A one-time registration token for the cluster's zone (single use, TTL <= 24 h); "
                            + "re-admits a revoked cluster. Shown once; the admin trail keeps its SHA-256 only. "
                            + "Served where central's zone hub runs (`xds.zone_hub.*`, and `meshguard up`).",
                    ZoneAdminApi::register),
            AdminOperation.of(
                    AdminRoute.system("POST", "/v1/operator/zones/{cluster}/revoke", "cluster:revoke"),
                    "Cuts the cluster's zone off: its stream is closed (on every central replica within a "
                            + "tick) and its credentials refused until it is registered again. The zone keeps "
                            + "serving what it holds. Served where central's zone hub runs (`xds.zone_hub.*`, and "
                            + "`meshguard up`).",
                    ZoneAdminApi::revoke),
            AdminOperation.of(
                    AdminRoute.system("PUT", "/v1/operator/zones/{cluster}/groups/{group}", "cluster:update"),
                    "The cluster's zone serves the gateway group (again, after a withdrawal); its streams "
                            + "are told at once. Served where central's zone hub runs (`xds.zone_hub.*`, and "
                            + "`meshguard up`).",
                    ZoneAdminApi::assign),
            AdminOperation.of(
                    AdminRoute.system("DELETE", "/v1/operator/zones/{cluster}/groups/{group}", "cluster:update"),
                    "Withdraws the group from the cluster: the zone is told, and its nodes drop the "
                            + "group's configuration (the only way anything is removed from a zone). Served where "
                            + "central's zone hub runs (`xds.zone_hub.*`, and `meshguard up`).",
                    ZoneAdminApi::withdraw),
            AdminOperation.of(
                    AdminRoute.system("GET", "/v1/operator/fleet", "fleet:read"),
                    "Clusters → groups → nodes across zones: each zone's link, the revision central "
                            + "published and the one the zone applied per group, each node's ACKed revision, drift "
                            + "and staleness. The same from every central replica (table zone_stream). Served where "
                            + "central's zone hub runs (`xds.zone_hub.*`, and `meshguard up`).",
                    (a, c) -> a.fleet.render()));

    /** The declared operations (route, summary, status, body): what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return OPERATIONS.all();
    }

    /** Every route with its permission. */
    public static final List<AdminRoute> ROUTES = OPERATIONS.routes();

    /** The path prefixes to mount (more specific than the catalogue's {@code /v1/}). */
    public static final List<String> PREFIXES = List.of("/v1/operator/zones", "/v1/operator/fleet");

    private final ZoneHub hub;
    private final FleetView fleet;
    private final AdminEndpoint<ZoneAdminApi> endpoint;
    private final AdminEvents events;
    private final Clock clock;

    public ZoneAdminApi(ZoneHub hub, FleetView fleet, AdminGate gate, AdminEvents events, Clock clock) {
        this.hub = hub;
        this.fleet = fleet;
        this.endpoint = AdminEndpoint.of(
                this,
                OPERATIONS.<AdminEndpoint.Handler<ZoneAdminApi>>map(h -> (api, r) -> h.handle(api, new Call(r))),
                gate,
                "controller",
                MAX_BODY);
        this.events = events;
        this.clock = clock;
    }

    /** An admitted call; {@code action} is its route as the trail names it ({@code POST /v1/operator/…}). */
    private record Call(AdminRequest request) {
        AdminGate.Admitted admitted() {
            return request.admission();
        }

        String requestId() {
            return request.requestId();
        }

        String segment(int i) {
            return request.segment(i);
        }

        JsonNode body() {
            return request.body();
        }

        String action() {
            return request.route().method() + " " + request.route().path();
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        endpoint.handle(exchange);
    }

    private JsonNode register(Call c) {
        String cluster = c.segment(3);
        Duration ttl = Duration.ofHours(c.body().path("ttl_hours").asLong(24));
        ZoneRegistry.RegistrationToken token =
                hub.registry().issue(cluster, ttl, c.admitted().caller().actor());
        changed(
                c,
                "cluster/" + cluster,
                "registration token issued, expires " + token.expiresAt(),
                ZoneSecrets.sha256(token.secret()));
        return ConfigJson.mapper()
                .createObjectNode()
                .put("cluster", cluster)
                .put("token", token.secret())
                .put("expires_at", token.expiresAt().toString())
                .put("note", "shown once; single use: start the zone with it before it expires");
    }

    private JsonNode revoke(Call c) {
        String cluster = c.segment(3);
        if (!hub.revoke(cluster)) {
            throw new NoSuchElementException("no cluster " + cluster);
        }
        changed(c, "cluster/" + cluster, "zone revoked: its stream is closed and its credentials refused", "");
        return ConfigJson.mapper().createObjectNode().put("cluster", cluster).put("revoked", true);
    }

    private JsonNode assign(Call c) {
        String cluster = c.segment(3);
        String group = c.segment(5);
        if (!hub.registry().exists(cluster)) {
            throw new NoSuchElementException("no cluster " + cluster);
        }
        hub.registry().assign(cluster, group);
        hub.nudge();
        changed(c, "cluster/" + cluster + "/group/" + group, "group assigned", "");
        return ConfigJson.mapper()
                .createObjectNode()
                .put("cluster", cluster)
                .put("group", group)
                .put("serving", true);
    }

    private JsonNode withdraw(Call c) {
        String cluster = c.segment(3);
        String group = c.segment(5);
        if (!hub.registry().withdraw(cluster, group)) {
            throw new NoSuchElementException("group " + group + " is not assigned to cluster " + cluster);
        }
        hub.nudge();
        changed(
                c,
                "cluster/" + cluster + "/group/" + group,
                "group withdrawn: the zone is told to stop serving it",
                "");
        return ConfigJson.mapper()
                .createObjectNode()
                .put("cluster", cluster)
                .put("group", group)
                .put("serving", false);
    }

    private void changed(Call c, String target, String outcome, String afterDigest) {
        var caller = c.admitted().caller();
        events.record(new AdminEvent(
                clock.instant(),
                caller.actor(),
                caller.method().label(),
                c.admitted().decision().roleUsed(),
                "",
                caller.source(),
                c.requestId(),
                c.action(),
                target,
                "changed: " + outcome,
                "",
                afterDigest));
    }
}
