package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.audit.trail.TrailEntries;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeySecret;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import io.meshguard.db.Migrations;
import io.meshguard.testing.IntegrationTest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backup and restore procedure of docs/install.md, run for real: {@code pg_dumpall --roles-only} and
 * {@code pg_dump -Fc} of a migrated, seeded meshguard database, restored with {@code psql} and {@code pg_restore} into a
 * fresh cluster. The restored database has every row, the same schema version with nothing pending, the admin
 * trail verifies to the same head and keeps chaining, and an API key minted before the backup still matches.
 *
 * <p>Needs PostgreSQL's server and client programs of one major ({@link SystemPostgres}); skipped, naming what is
 * missing, where they are not installed (the embedded test server has no pg_dump).
 */
@IntegrationTest
class BackupRestoreTest {
    @TempDir
    Path work;

    @Test
    void dumpOfASeededDatabase_restoredIntoAFreshCluster_hasEveryRow_andTheTrailStillVerifies() throws Exception {
        Optional<Path> bin = SystemPostgres.binaries();
        Assumptions.assumeTrue(
                bin.isPresent(),
                "no PostgreSQL server and client programs of one major under "
                        + SystemPostgres.DEBIAN_LAYOUT + "/<major>/bin (needs " + SystemPostgres.PROGRAMS
                        + "; Debian: apt-get install postgresql): backup and restore not checked");

        Path dump = work.resolve("meshguard.dump");
        Path roles = work.resolve("roles.sql");
        Map<String, String> before;
        String schemaBefore;
        AdminTrailVerifier.Report trailBefore;
        ApiKeySecret.Minted key = ApiKeySecret.mint();
        try (SystemPostgres source = startOrSkip(bin.get(), dir("source"))) {
            source.client("psql", "-d", "postgres", "-c", "create database meshguard");
            DataSource db = source.dataSource("meshguard");
            Migrations.apply(db);
            seed(db, key);
            before = tableDigests(db);
            schemaBefore = Migrations.currentVersion(db).orElseThrow();
            trailBefore = new AdminTrailVerifier(db).verify(Optional.empty());
            assertThat(trailBefore.intact()).isTrue();

            source.client("pg_dumpall", "--roles-only", "-f", roles.toString());
            source.client("pg_dump", "-d", "meshguard", "-Fc", "-f", dump.toString());
        }

        try (SystemPostgres target = startOrSkip(bin.get(), dir("target"))) {
            // the roles first (grants in the dump name them); "role postgres already exists" is expected, hence no
            // ON_ERROR_STOP here, while the database restore stops at its first error
            target.client("psql", "-d", "postgres", "-q", "-f", roles.toString());
            target.client("psql", "-d", "postgres", "-c", "create database meshguard");
            target.client("pg_restore", "-d", "meshguard", "--exit-on-error", dump.toString());
            DataSource db = target.dataSource("meshguard");

            assertThat(tableDigests(db)).isEqualTo(before);
            assertThat(Migrations.currentVersion(db)).contains(schemaBefore);
            assertThat(Migrations.pendingVersions(db)).isEmpty();

            AdminTrailVerifier.Report trailAfter = new AdminTrailVerifier(db)
                    .verify(Optional.of(new AdminTrailVerifier.Head(trailBefore.headSeq(), trailBefore.headHash())));
            assertThat(trailAfter.intact()).as("%s", trailAfter.firstBad()).isTrue();
            assertThat(trailAfter.headSeq()).isEqualTo(trailBefore.headSeq()).isEqualTo(5);
            // sequences and the head row came back too: the next change chains on
            assertThat(new AdminTrail(db).append(entry(5)).seq()).isEqualTo(6);
            assertThat(new AdminTrailVerifier(db).verify(Optional.empty()).intact())
                    .isTrue();

            ApiKeySecret.Parsed presented = ApiKeySecret.parse(key.text()).orElseThrow();
            ApiKeyStore.Stored stored =
                    new JdbcApiKeyStore(db).find(presented.keyId()).orElseThrow();
            assertThat(ApiKeySecret.matches(presented.secretHash(), stored.secretHash()))
                    .isTrue();
        }
    }

    /** A cluster, or the test skipped naming why none can start here (no unshare as root, no user namespaces). */
    private static SystemPostgres startOrSkip(Path bin, Path dir) throws InterruptedException {
        try {
            return SystemPostgres.start(bin, dir);
        } catch (java.io.IOException e) {
            Assumptions.abort("PostgreSQL from " + bin + " cannot start here, so backup and restore is not checked: "
                    + e.getMessage());
            throw new AssertionError("unreachable");
        }
    }

    private Path dir(String name) throws java.io.IOException {
        return java.nio.file.Files.createDirectories(work.resolve(name));
    }

    /** What an installation holds that a restore must bring back: admin trail rows, an API key, quota counts. */
    private static void seed(DataSource db, ApiKeySecret.Minted key) throws Exception {
        AdminTrail trail = new AdminTrail(db);
        for (int i = 0; i < 5; i++) {
            trail.append(entry(i));
        }
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        new JdbcApiKeyStore(db)
                .insert(
                        new ApiKey(
                                key.keyId(),
                                "orders-batch",
                                "team-orders",
                                "acme",
                                List.of("api-client"),
                                List.of("orders:read"),
                                "gold",
                                now,
                                Optional.empty(),
                                Optional.empty(),
                                Optional.empty(),
                                Optional.empty(),
                                0),
                        key.secretHash());
        try (Connection c = db.getConnection();
                Statement s = c.createStatement()) {
            s.executeUpdate("insert into quota_usage (quota, caller, period_start, period, period_end, used) values"
                    + " ('daily-calls', 'apikey:" + key.keyId() + "', current_date, 'day', current_date + 1, 5),"
                    + " ('monthly-calls', 'sub:alice', date_trunc('month', now())::date, 'month',"
                    + " date_trunc('month', now()) + interval '1 month', 1234)");
        }
    }

    private static AdminTrailEntry entry(int i) {
        return TrailEntries.fullChange(i);
    }

    /** Per table of the database (Flyway's history included): its row count and a digest of every row's text. */
    private static Map<String, String> tableDigests(DataSource db) throws Exception {
        Map<String, String> digests = new TreeMap<>();
        try (Connection c = db.getConnection();
                Statement s = c.createStatement()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet r = s.executeQuery("select format('%I.%I', table_schema, table_name) from"
                    + " information_schema.tables where table_type = 'BASE TABLE'"
                    + " and table_schema not in ('pg_catalog', 'information_schema')")) {
                while (r.next()) {
                    tables.add(r.getString(1));
                }
            }
            for (String table : tables) {
                try (ResultSet r = s.executeQuery("select count(*) || ' rows ' || md5(coalesce(string_agg(t::text, "
                        + "E'\\n' order by t::text), '')) from only " + table + " t")) {
                    r.next();
                    digests.put(table, r.getString(1));
                }
            }
        }
        assertThat(digests)
                .as("seeded tables")
                .containsKeys("public.admin_trail_head", "public.api_keys", "public.quota_usage");
        return digests;
    }
}
