package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.AdminGate;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.audit.trail.CheckpointDirectory;
import io.meshguard.audit.trail.CheckpointKeys;
import io.meshguard.audit.trail.TrailCheckpointer;
import io.meshguard.audit.trail.TrailEntries;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.store.RevisionSeal;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database owner deletes the newest admin-trail rows after a signed checkpoint and moves the head back: the admin
 * plane's {@code GET /audit/trail/verify} (the console's and {@code meshguard audit verify}'s path) checks the
 * controller's own checkpoints and says the trail was truncated; the controller refuses to sign the shorter head,
 * across a restart, and says so in {@code /readyz} and {@code meshguard_admin_trail_head_regressed}. Real PostgreSQL,
 * real HTTP, the controller's real checkpointer and directory.
 */
@IntegrationTest
class TrailVerifyAgainstCheckpointsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String TOKEN = "s3cret-token-for-tests-only";

    @TempDir
    Path dir;

    private PrometheusMeterRegistry registry;
    private XdsController xds;
    private StatusHttpServer http;
    private TrailCheckpointer signer;
    private AdminTrail trail;
    private Path privateKey;

    @BeforeEach
    void controllerWithCheckpoints() throws Exception {
        TrailEntries.emptyTrail(PG.dsl());
        trail = new AdminTrail(PG.dataSource());
        trail.ensurePartitions(YearMonth.now(ZoneOffset.UTC), 1);
        privateKey = CheckpointKeys.ensure(dir.resolve("trail-checkpoint.key"), dir.resolve("trail-checkpoint.pub"));
        Path tokenFile = dir.resolve("token");
        Files.writeString(tokenFile, "alice:" + TOKEN + "\n");
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        signer = checkpointer(registry);
        xds = XdsController.create(AdminApiTest.settings(Optional.of(tokenFile)), PG.dataSource(), registry, c -> {});
        http = new StatusHttpServer("xds-trail", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(
                http,
                AdminGate.local(new BearerTokens(Optional.of(tokenFile)), "xds.admin.token_file"),
                AdminPortDocument.controller(),
                RevisionSeal.trailVerifier(
                        PG.dataSource(),
                        // the signer in charge now (a test may rotate its key)
                        Optional.of((AdminTrailVerifier.CheckpointSource) () -> signer.signedCheckpoints())));
        http.addReadinessChecks(signer.readinessChecks());
        xds.start();
        http.start();
    }

    private TrailCheckpointer checkpointer(PrometheusMeterRegistry meters) throws Exception {
        return new TrailCheckpointer(
                PG.dataSource(),
                CheckpointKeys.readPrivate(privateKey),
                new CheckpointDirectory(dir.resolve("checkpoints"), "xds-0"),
                Clock.systemUTC(),
                Duration.ofSeconds(1),
                meters);
    }

    @AfterEach
    void stop() {
        http.close();
        xds.close();
        signer.close();
    }

    private void eventsSigned(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            trail.append(TrailEntries.upsert(Instant.now(), "alice", Optional.of("acme"), "routes/edge/r" + i));
            assertThat(signer.checkpointNow()).isPresent();
        }
    }

    private void cutNewestRowsTo(long seq) {
        String hash = PG.dsl()
                .fetchValue("select row_hash from admin_trail where seq = ?", seq)
                .toString();
        PG.dsl().execute("delete from admin_trail where seq > ?", seq);
        PG.dsl().execute("update admin_trail_head set seq = ?, row_hash = ?", seq, hash);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return AdminHttp.send(http.port(), TOKEN, "GET", path, null);
    }

    private JsonNode verify() throws Exception {
        HttpResponse<String> r = get("/audit/trail/verify");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ConfigJson.mapper().readTree(r.body());
    }

    @Test
    void intactTrail_verifiesAgainstTheControllersCheckpoints() throws Exception {
        eventsSigned(3);
        JsonNode ok = verify();
        assertThat(ok.path("intact").asBoolean()).as(ok.toString()).isTrue();
        assertThat(ok.path("checkpoints_checked").asBoolean()).isTrue();
        assertThat(get("/metrics").body()).contains("meshguard_admin_trail_head_regressed 0.0");
    }

    @Test
    void newestRowsCutWithTheHead_adminPlaneVerify_saysTruncated() throws Exception {
        eventsSigned(5);
        cutNewestRowsTo(3);
        assertThat(RevisionSeal.trailVerifier(PG.dataSource())
                        .verify(Optional.empty())
                        .intact())
                .as("the chain alone (the admin plane's walk before it read the checkpoints) cannot tell")
                .isTrue();

        JsonNode bad = verify();
        assertThat(bad.path("intact").asBoolean()).as(bad.toString()).isFalse();
        assertThat(bad.path("first_bad").path("problem").asText()).isEqualTo("truncated");
        assertThat(bad.path("first_bad").path("seq").asLong()).isEqualTo(4);
        assertThat(bad.path("first_bad").path("explanation").asText())
                .contains("says the trail reached row 5, but it ends at row 3");
    }

    @Test
    void headMovedBack_signerRefuses_andKeepsRefusing_acrossARestart() throws Exception {
        eventsSigned(5);
        cutNewestRowsTo(3);

        assertThat(signer.checkpointNow()).as("the shorter head is not signed").isEmpty();
        assertThat(signer.checkpointNow()).isEmpty();
        assertThat(signer.refusal())
                .hasValueSatisfying(why -> assertThat(why).contains("the head went back from row 5", "to row 3"));
        assertThat(get("/metrics").body()).contains("meshguard_admin_trail_head_regressed 1.0");
        HttpResponse<String> ready = get("/readyz");
        assertThat(ready.body()).contains("ADMIN TRAIL HEAD WENT BACK, not signing: the head went back from row 5");

        // new rows appended past the old head do not make the cut trail signable: row 5 is not the row signed
        eventsAppendedWithoutSigning(3);
        assertThat(signer.checkpointNow()).isEmpty();
        assertThat(signer.refusal()).hasValueSatisfying(why -> assertThat(why)
                .contains("row 5, the head signed at", "no longer has its signed hash under the head at row 6"));

        // a restarted controller reads the newest signed head back from its directory and refuses too
        try (TrailCheckpointer restarted = checkpointer(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
            assertThat(restarted.checkpointNow()).isEmpty();
            assertThat(restarted.refusal()).isPresent();
        }
        assertThat(verify().path("intact").asBoolean()).isFalse();
    }

    /** The controller restarted with {@code key}, trusting checkpoints of {@code previous}; the old signer closed. */
    private void rotateTo(Path key, List<java.security.PublicKey> previous) throws Exception {
        signer.close();
        signer = new TrailCheckpointer(
                PG.dataSource(),
                CheckpointKeys.readPrivate(key),
                previous,
                new CheckpointDirectory(dir.resolve("checkpoints"), "xds-0"),
                Clock.systemUTC(),
                Duration.ofSeconds(1),
                new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    @Test
    void checkpointKeyRotated_adminPlaneVerify_trustsTheKeysRotatedFrom_andNoOther() throws Exception {
        eventsSigned(2);
        Path second = CheckpointKeys.ensure(dir.resolve("second.key"), dir.resolve("second.pub"));
        rotateTo(second, List.of(CheckpointKeys.readPublic(dir.resolve("trail-checkpoint.pub"))));
        eventsSigned(2);
        JsonNode ok = verify();
        assertThat(ok.path("intact").asBoolean()).as(ok.toString()).isTrue();
        assertThat(ok.path("checkpoints_checked").asBoolean()).isTrue();

        // the newest head the first key signed still binds the rotated signer: cutting it back is refused
        cutNewestRowsTo(1);
        assertThat(signer.checkpointNow()).isEmpty();
        assertThat(signer.refusal()).isPresent();
        PG.dsl().execute("delete from admin_trail");
        PG.dsl().execute("update admin_trail_head set seq = 0, row_hash = repeat('0', 64)");
        Files.walk(dir.resolve("checkpoints")).filter(Files::isRegularFile).forEach(f -> f.toFile()
                .delete());

        // rotated without the first key's public half: that key's checkpoints are no longer trusted
        rotateTo(privateKey, List.of());
        eventsSigned(1);
        rotateTo(second, List.of());
        eventsSigned(1);
        JsonNode bad = verify();
        assertThat(bad.path("intact").asBoolean()).as(bad.toString()).isFalse();
        assertThat(bad.path("first_bad").path("problem").asText()).isEqualTo("bad_checkpoint");
        assertThat(bad.path("first_bad").path("explanation").asText())
                .contains("which is not a trusted checkpoint key");
    }

    @Test
    void signedHeadRewrittenInPlace_signerRefuses() throws Exception {
        eventsSigned(2);
        PG.dsl().execute("update admin_trail_head set row_hash = repeat('a', 64)");
        assertThat(signer.checkpointNow()).isEmpty();
        assertThat(signer.refusal()).hasValueSatisfying(why -> assertThat(why)
                .contains("row 2, the head signed at", "no longer has its signed hash"));
    }

    private void eventsAppendedWithoutSigning(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            trail.append(TrailEntries.upsert(Instant.now(), "mallory", Optional.empty(), "routes/edge/x" + i));
        }
    }
}
