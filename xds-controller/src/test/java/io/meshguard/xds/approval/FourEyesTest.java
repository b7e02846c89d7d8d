package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.admin.TenantAdminPlane;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Four eyes on a protected gateway group, over real HTTP with tokens from a real JWKS server and a real PostgreSQL:
 * a publish becomes a request; its requester and its authors cannot approve it; another owner's approval publishes
 * exactly what was requested; a later draft edit voids it; rollback to an approved revision needs no second person.
 */
@IntegrationTest
class FourEyesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              release-manager:
                permissions: [config:read, group:read, group:update, upstream:read, upstream:update, api:read,
                              api:update, route:read, route:update, revision:read, revision:publish,
                              revision:rollback, revision:approve]
              gateway-owner:
                permissions: [group:read, group:protect, revision:read, revision:approve]
              system-admin:
                permissions: [config:read, group:read, group:update, group:protect, upstream:read, upstream:update,
                              api:read, api:update, route:read, route:update, revision:read, revision:publish,
                              revision:rollback, revision:approve]
            bindings:
              - {match: release-managers, role: release-manager, scope: system}
              - {match: prod-owners, role: gateway-owner, scope: "gateway:prod"}
              - {match: platform, role: system-admin, scope: system}
            """;
    /** alice and carol change and publish; bob and dave own the prod gateway and approve; root runs the platform. */
    static final Map<String, List<String>> GROUPS = Map.of(
            "alice",
            List.of("release-managers"),
            "carol",
            List.of("release-managers"),
            "bob",
            List.of("prod-owners"),
            "dave",
            List.of("prod-owners"),
            "root",
            List.of("platform"));

    /** The platform's shared break-glass token (admin.break_glass: true beside the issuer). */
    static final String BREAK_GLASS = "break-glass-token-4242";

    static java.nio.file.Path tokenFile;
    static TenantAdminPlane plane;

    @BeforeAll
    static void start() throws Exception {
        tokenFile = java.nio.file.Files.createTempFile("four-eyes-tokens", ".txt");
        java.nio.file.Files.writeString(tokenFile, "oncall:" + BREAK_GLASS + "\n");
        plane = TenantAdminPlane.start(PG.dataSource(), BINDINGS, GROUPS, Optional.of(tokenFile), (http, p) -> {});
        ok(call("root", "PUT", "/groups/prod", """
                {"name": "prod", "environment": "prod", "region": "eu", "listener_port": 8080}"""));
        ok(call("root", "PUT", "/upstreams/orders", """
                {"name": "orders", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}"""));
        ok(call("root", "PUT", "/apis/orders", """
                {"name": "orders", "base_path": "/orders", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}"""));
        route("alice", "/orders");
        ok(call("root", "POST", "/publish", "{\"reason\": \"first release, before protection\"}"));
        ok(call("bob", "PUT", "/groups/prod/protection", "{\"reason\": \"production\"}"));
    }

    @AfterAll
    static void stop() {
        plane.close();
        tokenFile.toFile().delete();
    }

    static void route(String who, String prefix) throws Exception {
        ok(call(who, "PUT", "/routes/prod/orders", """
                {"name": "orders", "group": "prod", "api": "orders", "version": "v1", "match": {"path_prefix": "%s"},
                 "destinations": [{"upstream": "orders", "weight": 100}], "authz_profile": "orders",
                 "dlp_profile": "default"}""".formatted(prefix)));
    }

    static HttpResponse<String> call(String who, String method, String path, String body) throws Exception {
        return plane.call(who, method, path, body);
    }

    /** A call with a token of exactly these claims (a realm that maps other claims than the demo's). */
    static HttpResponse<String> callAs(Map<String, Object> claims, String method, String path, String body)
            throws Exception {
        return plane.send(plane.tokenWith(claims), method, path, body);
    }

    static HttpResponse<String> send(String token, String method, String path, String body) throws Exception {
        return plane.send(token, method, path, body);
    }

    static JsonNode ok(HttpResponse<String> r) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isBetween(200, 202);
        return ConfigJson.mapper().readTree(r.body());
    }

    /** The path prefix of the route prod serves now, read from the revision the controller serves. */
    static String servedPrefix() throws Exception {
        long served = plane.xds().servedRevision("prod").orElseThrow();
        return ok(call("root", "GET", "/revisions/" + served, null))
                .path("config")
                .path("routes")
                .get(0)
                .path("match")
                .path("path_prefix")
                .asText();
    }

    static long request(String who, String prefix) throws Exception {
        route(who, prefix);
        HttpResponse<String> r = call(who, "POST", "/publish", "{\"reason\": \"move to " + prefix + "\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode req = ConfigJson.mapper().readTree(r.body()).path("requests").get(0);
        assertThat(req.path("state").asText()).isEqualTo("pending");
        return req.path("id").asLong();
    }

    @Test
    void publish_toProtectedGroup_createsRequest_andServesNothingNew() throws Exception {
        String before = servedPrefix();
        long id = request("alice", "/orders-v2");
        assertThat(servedPrefix()).isEqualTo(before);
        JsonNode shown = ok(call("bob", "GET", "/publish-requests/prod/" + id, null));
        assertThat(shown.path("authors").toString()).contains("alice");
        assertThat(shown.path("diff").toString()).contains("/orders-v2");
    }

    @Test
    void approve_byRequesterOrAuthor_isRefused403_byAnotherOwner_servesExactlyTheRequest() throws Exception {
        long id = request("alice", "/orders-v3");
        assertThat(call("alice", "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"me\"}")
                        .statusCode())
                .isEqualTo(403);
        JsonNode approved = ok(call(
                "bob", "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"reviewed the diff\"}"));
        assertThat(servedPrefix()).isEqualTo("/orders-v3");
        long revision = approved.path("id").asLong();
        JsonNode rev = ok(call("root", "GET", "/revisions/" + revision, null));
        assertThat(rev.path("approval").path("requested_by").asText()).contains("alice");
        assertThat(rev.path("approval").path("decided_by").asText()).contains("bob");
        assertThat(rev.path("approval").path("decision_reason").asText()).isEqualTo("reviewed the diff");
        assertThat(rev.path("reason").asText()).contains("approved by").contains("bob");
        assertThat(call("dave", "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"again\"}")
                        .statusCode())
                .isEqualTo(409);
    }

    @Test
    void coAuthor_whoDidNotRequest_cannotApproveEither() throws Exception {
        route("carol", "/orders-carol");
        long id = request("alice", "/orders-v4");
        assertThat(call("carol", "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"ok\"}")
                        .statusCode())
                .isEqualTo(403);
        ok(call("bob", "POST", "/publish-requests/prod/" + id + "/reject", "{\"reason\": \"not now\"}"));
    }

    @Test
    void draftEdit_afterTheRequest_voidsIt() throws Exception {
        String before = servedPrefix();
        long id = request("alice", "/orders-v5");
        route("alice", "/orders-v5b");
        HttpResponse<String> r =
                call("bob", "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"looked fine\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
        assertThat(r.body()).contains("void");
        assertThat(servedPrefix()).isEqualTo(before);
        assertThat(ok(call("bob", "GET", "/publish-requests/prod/" + id, null))
                        .path("state")
                        .asText())
                .isEqualTo("voided");
    }

    /** A rollback while a request waits: the diff its approver reads is no longer what approving it would change. */
    @Test
    void servedRevisionChange_afterTheRequest_voidsIt() throws Exception {
        // serve an approved change first, so that rolling back to the group's first revision changes what is served
        ok(call(
                "bob",
                "POST",
                "/publish-requests/prod/" + request("alice", "/orders-stale-base") + "/approve",
                "{\"reason\": \"base\"}"));
        long id = request("alice", "/orders-stale");
        JsonNode revisions = ok(call("root", "GET", "/revisions?group=prod", null));
        long first = revisions.get(revisions.size() - 1).path("id").asLong();
        ok(call("alice", "POST", "/rollback/" + first, "{\"reason\": \"on-call\"}"));
        String afterRollback = servedPrefix();
        assertThat(afterRollback).isNotEqualTo("/orders-stale-base");
        // voided by the rollback itself, not only when someone tries to approve it
        JsonNode voided = ok(call("bob", "GET", "/publish-requests/prod/" + id, null));
        assertThat(voided.path("state").asText()).isEqualTo("voided");
        assertThat(voided.path("decision_reason").asText()).contains("made without this request's approval");
        HttpResponse<String> r =
                call("bob", "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"read the diff\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(409);
        assertThat(r.body()).contains("voided");
        assertThat(servedPrefix()).isEqualTo(afterRollback);
    }

    /** Protection removed while a request waits: the next publish serves the draft, and the request says so. */
    @Test
    void publish_afterUnprotect_voidsThePendingRequest() throws Exception {
        long id = request("alice", "/orders-unprotected");
        ok(call("root", "DELETE", "/groups/prod/protection", "{\"reason\": \"migration weekend\"}"));
        try {
            ok(call("root", "POST", "/publish", "{\"reason\": \"served directly\"}"));
            assertThat(servedPrefix()).isEqualTo("/orders-unprotected");
            JsonNode request = ok(call("bob", "GET", "/publish-requests/prod/" + id, null));
            assertThat(request.path("state").asText()).isEqualTo("voided");
            assertThat(request.path("decision_reason").asText()).contains("made without this request's approval");
            assertThat(ok(call("bob", "GET", "/groups/prod/publish-requests", null))
                            .findValuesAsText("state"))
                    .doesNotContain("pending");
        } finally {
            ok(call("bob", "PUT", "/groups/prod/protection", "{\"reason\": \"production\"}"));
        }
    }

    @Test
    void twoApproversRacing_publishOnce() throws Exception {
        long id = request("alice", "/orders-v6");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Callable<Integer>> both = new ArrayList<>();
            for (String who : List.of("bob", "dave")) {
                both.add(() -> call(who, "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"race\"}")
                        .statusCode());
            }
            List<Integer> codes = new ArrayList<>();
            for (Future<Integer> f : pool.invokeAll(both)) {
                codes.add(f.get());
            }
            assertThat(codes).containsExactlyInAnyOrder(200, 409);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rollback_toApprovedOrPreProtectionRevision_needsNoSecondPerson_butNeverToAnUnapprovedOne() throws Exception {
        // whatever ran before, the group serves something else than its first revision
        ok(call(
                "bob",
                "POST",
                "/publish-requests/prod/" + request("alice", "/orders-before-rollback") + "/approve",
                "{\"reason\": \"base\"}"));
        JsonNode revisions = ok(call("root", "GET", "/revisions?group=prod", null));
        long first = revisions.get(revisions.size() - 1).path("id").asLong();
        HttpResponse<String> back = call("alice", "POST", "/rollback/" + first, "{\"reason\": \"on-call\"}");
        assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
        long rolledBack = ConfigJson.mapper().readTree(back.body()).path("id").asLong();
        // the rollback's own revision was never approved: serving it again needs a request
        assertThat(call("alice", "POST", "/rollback/" + rolledBack, "{\"reason\": \"again\"}")
                        .statusCode())
                .isEqualTo(409);
    }

    @Test
    void groupOwner_listsItsGroupsRequestsAndRevisions_butNotTheUnscopedLists() throws Exception {
        long id = request("alice", "/orders-v7");
        JsonNode requests = ok(call("bob", "GET", "/groups/prod/publish-requests", null));
        assertThat(requests.findValues("id")).extracting(JsonNode::asLong).contains(id);
        assertThat(requests.findValues("group")).extracting(JsonNode::asText).containsOnly("prod");
        JsonNode revisions = ok(call("bob", "GET", "/groups/prod/revisions", null));
        assertThat(revisions.size()).isPositive();
        assertThat(revisions.findValues("group")).extracting(JsonNode::asText).containsOnly("prod");
        // the unscoped lists span every group: system scope only, as before
        assertThat(call("bob", "GET", "/publish-requests", null).statusCode()).isEqualTo(403);
        assertThat(call("bob", "GET", "/revisions?group=prod", null).statusCode())
                .isEqualTo(403);
        assertThat(call("bob", "GET", "/groups/staging/publish-requests", null).statusCode())
                .isEqualTo(403);
        assertThat(call("root", "GET", "/groups/no-such-group/revisions", null).statusCode())
                .isEqualTo(404);
    }

    @Test
    void approve_byRequesterWhoseTokenLacksPreferredUsername_refused403() throws Exception {
        Map<String, Object> named = Map.of(
                "sub",
                "5f1c0b7e-erin",
                "aud",
                "meshguard-admin",
                "typ",
                "Bearer",
                "preferred_username",
                "erin",
                "groups",
                List.of("release-managers"));
        Map<String, Object> unnamed = Map.of(
                "sub",
                "5f1c0b7e-erin",
                "aud",
                "meshguard-admin",
                "typ",
                "Bearer",
                "groups",
                List.of("release-managers"));
        ok(callAs(named, "PUT", "/routes/prod/orders", """
                {"name": "orders", "group": "prod", "api": "orders", "version": "v1",
                 "match": {"path_prefix": "/orders-erin"}, "destinations": [{"upstream": "orders", "weight": 100}],
                 "authz_profile": "orders", "dlp_profile": "default"}"""));
        HttpResponse<String> published = callAs(named, "POST", "/publish", "{\"reason\": \"erin's change\"}");
        assertThat(published.statusCode()).as(published.body()).isEqualTo(202);
        long id = ConfigJson.mapper()
                .readTree(published.body())
                .path("requests")
                .get(0)
                .path("id")
                .asLong();
        String before = servedPrefix();

        // the same subject with another display name (none at all) is the same person
        HttpResponse<String> self = callAs(
                unnamed, "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"looks good to me\"}");
        assertThat(self.statusCode()).as(self.body()).isEqualTo(403);
        assertThat(servedPrefix()).isEqualTo(before);
        ok(call("bob", "POST", "/publish-requests/prod/" + id + "/reject", "{\"reason\": \"not now\"}"));
    }

    @Test
    void approve_withTheBreakGlassToken_refused403() throws Exception {
        long id = request("alice", "/orders-glass");
        String before = servedPrefix();
        HttpResponse<String> glass =
                send(BREAK_GLASS, "POST", "/publish-requests/prod/" + id + "/approve", "{\"reason\": \"emergency\"}");
        assertThat(glass.statusCode()).as(glass.body()).isEqualTo(403);
        assertThat(glass.body()).contains("break-glass");
        assertThat(servedPrefix()).isEqualTo(before);
        ok(call("bob", "POST", "/publish-requests/prod/" + id + "/reject", "{\"reason\": \"not now\"}"));
    }

    @Test
    void approve_byAnAuthor_afterARollback_refused403() throws Exception {
        // whatever ran before, the group serves something else than its first revision
        ok(call(
                "bob",
                "POST",
                "/publish-requests/prod/" + request("alice", "/orders-before-carol") + "/approve",
                "{\"reason\": \"base\"}"));
        route("carol", "/orders-carol-rollback");
        // a rollback serves an older revision as a new one: carol's draft change is still not served by anyone
        JsonNode revisions = ok(call("root", "GET", "/revisions?group=prod", null));
        long first = revisions.get(revisions.size() - 1).path("id").asLong();
        ok(call("alice", "POST", "/rollback/" + first, "{\"reason\": \"on-call\"}"));
        HttpResponse<String> r = call("alice", "POST", "/publish", "{\"reason\": \"carol's change, again\"}");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        JsonNode req = ConfigJson.mapper().readTree(r.body()).path("requests").get(0);
        assertThat(req.path("authors").toString()).contains("carol");

        HttpResponse<String> own = call(
                "carol",
                "POST",
                "/publish-requests/prod/" + req.path("id").asLong() + "/approve",
                "{\"reason\": \"mine, but who would know\"}");
        assertThat(own.statusCode()).as(own.body()).isEqualTo(403);
        ok(call(
                "bob",
                "POST",
                "/publish-requests/prod/" + req.path("id").asLong() + "/reject",
                "{\"reason\": \"not now\"}"));
    }

    @Test
    void unprotect_needsSystemScope() throws Exception {
        assertThat(call("bob", "DELETE", "/groups/prod/protection", "{\"reason\": \"faster\"}")
                        .statusCode())
                .isEqualTo(403);
    }
}
