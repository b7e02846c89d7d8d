package io.meshguard.cli.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.cli.CliRun;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.model.ConfigJson;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard xds approvals list|show|approve|reject} against a real controller's admin API (real PostgreSQL):
 * alice's publish to the protected group is a request; alice cannot approve it, bob can, and the command prints
 * what the server answered.
 */
@IntegrationTest
class XdsApprovalsCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path dir;

    static LocalAdminApi admin;

    @BeforeAll
    static void start() throws Exception {
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "alice:" + "a".repeat(32) + "\nbob:" + "b".repeat(32) + "\n");
        Files.writeString(dir.resolve("alice.token"), "alice:" + "a".repeat(32) + "\n");
        Files.writeString(dir.resolve("bob.token"), "bob:" + "b".repeat(32) + "\n");
        admin = LocalAdminApi.start("approvals-cli", PG.dataSource(), tokens);
        ok("bob", "PUT", "/groups/prod", """
                {"name": "prod", "environment": "prod", "region": "eu", "listener_port": 8080}""");
        ok("bob", "PUT", "/upstreams/orders", """
                {"name": "orders", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""");
        ok("bob", "PUT", "/apis/orders", """
                {"name": "orders", "base_path": "/orders", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""");
        route("/orders");
        ok("bob", "POST", "/publish", "{\"reason\": \"first release\"}");
        ok("bob", "PUT", "/groups/prod/protection", "{\"reason\": \"production\"}");
    }

    @AfterAll
    static void stop() {
        admin.close();
    }

    static void route(String prefix) throws Exception {
        ok("alice", "PUT", "/routes/prod/orders", """
                {"name": "orders", "group": "prod", "api": "orders", "version": "v1", "match": {"path_prefix": "%s"},
                 "destinations": [{"upstream": "orders", "weight": 100}], "authz_profile": "orders",
                 "dlp_profile": "default"}""".formatted(prefix));
    }

    static JsonNode ok(String who, String method, String path, String body) throws Exception {
        HttpResponse<String> r =
                AdminHttp.send(URI.create(url() + path), (who.equals("alice") ? "a" : "b").repeat(32), method, body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isBetween(200, 202);
        return ConfigJson.mapper().readTree(r.body());
    }

    static String url() {
        return "http://127.0.0.1:" + admin.port();
    }

    /** alice changes the route and publishes: a request, its id. */
    static long requested(String prefix) throws Exception {
        route(prefix);
        return ok("alice", "POST", "/publish", "{\"reason\": \"move to " + prefix + "\"}")
                .path("requests")
                .get(0)
                .path("id")
                .asLong();
    }

    static CliRun as(String who, String... args) {
        String[] full = new String[args.length + 6];
        full[0] = "xds";
        full[1] = "approvals";
        System.arraycopy(args, 0, full, 2, args.length);
        full[args.length + 2] = "--url";
        full[args.length + 3] = url();
        full[args.length + 4] = "--token-file";
        full[args.length + 5] = dir.resolve(who + ".token").toString();
        return CliRun.of(full);
    }

    @Test
    void listShowApprove_asASecondPerson_publishesTheRequest_andTheRequesterIsRefused() throws Exception {
        long id = requested("/orders-v2");

        CliRun list = as("bob", "list", "--group", "prod");
        assertThat(list.exit()).as(list.err()).isZero();
        assertThat(list.out()).containsPattern("(?m)^" + id + "\\s+prod\\s+pending\\s+alice\\b");

        CliRun show = as("bob", "show", "prod", Long.toString(id), "--json");
        assertThat(show.exit()).as(show.err()).isZero();
        assertThat(show.out()).contains("/orders-v2").contains("\"authors\"");
        // as people read it: the replay report of the group's recorded decisions, the authors, the diff
        CliRun text = as("bob", "show", "prod", Long.toString(id));
        assertThat(text.exit()).as(text.err()).isZero();
        assertThat(text.out())
                .contains("publish request " + id + " (group prod): pending")
                .contains("authors: alice")
                .contains("replay of the decisions recorded ")
                .contains("decisions: 0  unchanged: 0  flipped: 0  not replayable: 0")
                .contains("/orders-v2");
        CliRun report = as("alice", "report", "prod", Long.toString(id));
        assertThat(report.exit()).as(report.err()).isZero();
        assertThat(report.out()).contains("replay of the decisions recorded ");

        CliRun own = as("alice", "approve", "prod", Long.toString(id), "--reason", "looks fine to me");
        assertThat(own.exit()).isEqualTo(1);
        assertThat(own.err()).startsWith("approve refused (").contains("alice");

        CliRun approved = as("bob", "approve", "prod", Long.toString(id), "--reason", "reviewed the diff");
        assertThat(approved.exit()).as(approved.err()).isZero();
        long revision = ConfigJson.mapper().readTree(approved.out()).path("id").asLong();
        assertThat(ok("bob", "GET", "/revisions/" + revision, null)
                        .path("approval")
                        .path("decided_by")
                        .asText())
                .isEqualTo("bob");
        assertThat(as("bob", "list", "--group", "prod").out()).containsPattern("(?m)^" + id + "\\s+prod\\s+published");
    }

    @Test
    void reject_leavesTheGroupAsItWas_andNeedsAReason() throws Exception {
        long id = requested("/orders-v3");
        assertThat(as("bob", "reject", "prod", Long.toString(id)).exit())
                .as("--reason is required")
                .isNotZero();
        CliRun rejected = as("bob", "reject", "prod", Long.toString(id), "--reason", "not this week");
        assertThat(rejected.exit()).as(rejected.err()).isZero();
        assertThat(ConfigJson.mapper().readTree(rejected.out()).path("state").asText())
                .isEqualTo("rejected");
        assertThat(as("bob", "show", "prod", "999999").exit())
                .as("an unknown request")
                .isEqualTo(1);
    }
}
