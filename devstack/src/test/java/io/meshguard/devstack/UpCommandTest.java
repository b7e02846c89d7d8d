package io.meshguard.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.cli.CliRun;
import io.meshguard.cli.common.RunningStack;
import io.meshguard.cli.common.UpState;
import io.meshguard.devstack.part.UpPorts;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.StartedProcesses;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code meshguard up} as a real child process, the way a user does, and stops it with SIGTERM. */
@IntegrationTest
class UpCommandTest {
    private static final Duration START_LIMIT = Duration.ofMinutes(3);

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();

    @AutoClose
    private final StartedProcesses started = new StartedProcesses();

    private final java.util.Map<Process, Path> logs = new java.util.concurrent.ConcurrentHashMap<>();

    @Test
    void up_answersReadyz_thenSigtermStopsEverything_andSecondUpReusesTheData() throws Exception {
        RunningUp first = startUp();
        HttpResponse<String> ready = get(first.state().statusUrl() + "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body())
                .startsWith("{\"ready\":true")
                .contains(
                        "\"name\":\"postgres\"",
                        "\"name\":\"audit\"",
                        "\"name\":\"policy:authz\"",
                        "\"name\":\"policy:dlp\"",
                        "\"name\":\"xds:ads\"",
                        "\"name\":\"redis\"",
                        "\"name\":\"xds:policy:authz\"");
        java.util.List<String> checkNames = java.util.regex.Pattern.compile("\"name\":\"([^\"]+)\"")
                .matcher(ready.body())
                .results()
                .map(m -> m.group(1))
                .toList();
        assertThat(checkNames).doesNotHaveDuplicates();
        assertThat(get(first.state().statusUrl() + "/metrics").body()).contains("jvm_memory_used_bytes");
        assertThat(first.output()).anyMatch(line -> line.contains("meshguard is up"));
        // Every port asked as 0 is in up.json as the real one, so other commands find this stack and no other.
        assertThat(first.state().ports())
                .containsKeys(
                        RunningStack.STATUS,
                        RunningStack.POSTGRES,
                        RunningStack.EXTAUTHZ,
                        RunningStack.DLP,
                        RunningStack.ACCESS_LOG,
                        RunningStack.ADS,
                        RunningStack.XDS_ADMIN,
                        RunningStack.DEV_JWKS,
                        RunningStack.REDIS,
                        RunningStack.ZONE_HUB);
        assertThat(first.state().ports().values())
                .allSatisfy(port -> assertThat(port).isPositive());
        assertDevTokenIsAllowedOnlyForItsTenant(first.state());
        assertCliCommandsFindTheStackThroughTheDataDir(first.state());
        assertPolicyChangeNeedsTheSecondLocalPerson();
        // DLP hash tokens and audit HMACs must stay comparable across restarts: the key is kept, owner-only.
        java.nio.file.Path hashKey = dataDir.resolve("dlp-hash-key");
        assertThat(java.nio.file.Files.getPosixFilePermissions(hashKey))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        String key = java.nio.file.Files.readString(hashKey);
        // the admin trail's head leaves the database by itself: up made a checkpoint key and signs with it
        java.nio.file.Path checkpointKey = dataDir.resolve("trail-checkpoint.key");
        assertThat(java.nio.file.Files.getPosixFilePermissions(checkpointKey))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        java.security.PublicKey checkpointPublic =
                io.meshguard.audit.trail.CheckpointKeys.readPublic(dataDir.resolve("trail-checkpoint.pub"));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                        io.meshguard.audit.trail.CheckpointDirectory.read(dataDir.resolve("trail-checkpoints"))
                                .checkpoints())
                .isNotEmpty()
                .allSatisfy(cp -> assertThat(cp.signedBy(checkpointPublic)).isTrue()));

        try (Connection db = connect(first.state());
                Statement sql = db.createStatement()) {
            sql.execute("create table up_test_marker(note text)");
            sql.execute("insert into up_test_marker values ('kept across restarts')");
        }
        assertRedisServesTheStacksPasswordOnly(first.state());
        ProcessHandle redis = ProcessHandle.of(first.state().redisPid()).orElseThrow();
        ProcessHandle postgres = ProcessHandle.of(first.state().postgresPid()).orElseThrow();
        List<ProcessHandle> postgresProcesses =
                new ArrayList<>(postgres.descendants().toList());
        postgresProcesses.add(postgres);

        first.process().destroy(); // SIGTERM
        assertThat(first.process().waitFor(60, TimeUnit.SECONDS))
                .as("up exits after SIGTERM")
                .isTrue();
        assertThat(first.process().exitValue()).isIn(0, 143);
        // Dependency order: every server has drained before PostgreSQL stops, so nothing warns or throws on the way.
        assertThat(first.output())
                .as("exit %d", first.process().exitValue())
                .anyMatch(line -> line.startsWith("meshguard: stopped up.json"));
        List<String> shutdown = first.output()
                .subList(
                        indexOf(first.output(), "meshguard: shutdown signal received"),
                        first.output().size());
        assertThat(indexOf(shutdown, "meshguard: stopping postgres"))
                .isGreaterThan(indexOf(shutdown, "meshguard: stopped extauthz"))
                .isGreaterThan(indexOf(shutdown, "meshguard: stopped extproc-dlp"))
                .isGreaterThan(indexOf(shutdown, "meshguard: stopped audit"))
                .isGreaterThan(indexOf(shutdown, "meshguard: stopped redis"));
        // Redis outlives the servers that use it, so a draining extauthz never sees the store vanish.
        assertThat(indexOf(shutdown, "meshguard: stopping redis"))
                .isGreaterThan(indexOf(shutdown, "meshguard: stopped extauthz"));
        assertThat(shutdown)
                .as("quiet shutdown")
                .noneMatch(line -> line.contains(" WARN ")
                        || line.contains(" ERROR ")
                        || line.contains("Exception")
                        || line.startsWith("\tat "));
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(postgresProcesses).noneMatch(ProcessHandle::isAlive));
        assertThat(redis.isAlive()).as("no orphan redis-server after SIGTERM").isFalse();
        assertThat(dataDir.resolve(UpState.FILE_NAME)).doesNotExist();

        RunningUp second = startUp();
        try (Connection db = connect(second.state());
                Statement sql = db.createStatement();
                ResultSet rows = sql.executeQuery("select note from up_test_marker")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getString(1)).isEqualTo("kept across restarts");
        }
        assertThat(java.nio.file.Files.readString(hashKey)).isEqualTo(key);
        second.process().destroy();
        assertThat(second.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void secondUpOnTheSameDataDir_whileTheFirstRuns_failsWithAMessage_andLeavesTheFirstOnesUpJson() throws Exception {
        RunningUp first = startUp();
        String stateBefore = java.nio.file.Files.readString(dataDir.resolve(UpState.FILE_NAME));

        Process second = launch(dataDir, "--status-port", "0", "--pg-port", "0");
        assertThat(second.waitFor(2, TimeUnit.MINUTES)).isTrue();
        String output = java.nio.file.Files.readString(logs.get(second));

        assertThat(second.exitValue()).isEqualTo(1);
        assertThat(output)
                .contains("meshguard up: " + dataDir + " is in use by another meshguard up (pid "
                        + first.state().pid());
        assertThat(get(first.state().statusUrl() + "/readyz").statusCode())
                .as("the first up keeps running")
                .isEqualTo(200);
        // What other commands use to find the first stack is untouched.
        assertThat(java.nio.file.Files.readString(dataDir.resolve(UpState.FILE_NAME)))
                .isEqualTo(stateBefore);
        assertThat(DevCliRun.of("dev", "token", "--data-dir", dataDir.toString())
                        .exit())
                .isZero();
        first.process().destroy();
        assertThat(first.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void busyPorts_stopUpAtOnce_namingEachPortAndItsFlag_evenAListenerThatNeverAnswers(@TempDir Path otherDir)
            throws Exception {
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        try (ServerSocket silent = new ServerSocket(0, 50, loopback);
                ServerSocket busy = new ServerSocket(0, 50, loopback);
                ServerSocket redisPort = new ServerSocket(0, 50, loopback)) {
            Process up = launch(
                    otherDir,
                    "--pg-port",
                    String.valueOf(silent.getLocalPort()),
                    "--extauthz-port",
                    String.valueOf(busy.getLocalPort()),
                    "--redis-port",
                    String.valueOf(redisPort.getLocalPort()));
            assertThat(up.waitFor(2, TimeUnit.MINUTES))
                    .as("up does not hang on the silent listener")
                    .isTrue();
            String output = java.nio.file.Files.readString(logs.get(up));

            assertThat(up.exitValue()).isEqualTo(1);
            assertThat(output)
                    .contains("port " + silent.getLocalPort() + " on 127.0.0.1 is already in use (--pg-port)")
                    .contains("port " + busy.getLocalPort() + " on 127.0.0.1 is already in use (--extauthz-port)")
                    .contains("port " + redisPort.getLocalPort() + " on 127.0.0.1 is already in use (--redis-port)")
                    .contains("--extauthz-port 0 picks a free one");
            assertThat(otherDir.resolve(UpState.FILE_NAME)).doesNotExist();
            assertThat(otherDir.resolve("postgres")).as("nothing started").doesNotExist();
            assertThat(otherDir.resolve("redis")).as("nothing started").doesNotExist();
        }
    }

    @Test
    void redisFlags_thatCannotWork_stopUpWithTheReason(@TempDir Path otherDir) throws Exception {
        Process scheme = launch(otherDir, "--redis", "memcached://localhost");
        assertThat(scheme.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(scheme.exitValue()).isEqualTo(1);
        assertThat(java.nio.file.Files.readString(logs.get(scheme)))
                .contains(
                        "--redis takes local, none or a redis://host:port (rediss:// for TLS) URL, got 'memcached://localhost'");

        Process passwordForNothing = launch(otherDir, "--redis", "none", "--redis-password-file", "/nonexistent");
        assertThat(passwordForNothing.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(passwordForNothing.exitValue()).isEqualTo(1);
        assertThat(java.nio.file.Files.readString(logs.get(passwordForNothing)))
                .contains("--redis-password-file is for --redis URL");
        assertThat(otherDir.resolve("postgres")).as("nothing started").doesNotExist();
    }

    @Test
    void redisNone_startsNoRedis_ignoresItsPort_andSaysLimitsStayLocal() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            Process up = launch(dataDir, "--redis", "none", "--redis-port", String.valueOf(taken.getLocalPort()));
            UpState state = await().atMost(START_LIMIT)
                    .pollInterval(Duration.ofMillis(200))
                    .failFast("up exited early", () -> !up.isAlive())
                    .until(() -> UpState.readRunning(dataDir).orElse(null), s -> s != null);
            assertThat(state.redisUrl()).isEmpty();
            assertThat(state.redisPid()).isZero();
            assertThat(state.ports()).doesNotContainKey(RunningStack.REDIS);
            assertThat(state.endpoints())
                    .anyMatch(line -> line.startsWith("redis")
                            && line.contains("none: extauthz keeps per-process local rate limits"));
            assertThat(dataDir.resolve("redis")).doesNotExist();
            HttpResponse<String> ready = await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .until(() -> get(state.statusUrl() + "/readyz"), r -> r.statusCode() == 200);
            assertThat(ready.body()).doesNotContain("\"name\":\"redis\"");
            up.destroy();
            assertThat(up.waitFor(60, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void upKilledWithSigkill_leavesItsRedisBehind_whichTheNextUpStops() throws Exception {
        RunningUp first = startUp();
        ProcessHandle redis = ProcessHandle.of(first.state().redisPid()).orElseThrow();
        int redisPort = first.state().ports().get(RunningStack.REDIS);
        first.process().destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertThat(first.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(redis.isAlive()).as("nothing could stop it").isTrue();

        // Same data directory, same Redis port: the orphan holds it until the next up stops it.
        Process next = launch(dataDir, "--redis-port", String.valueOf(redisPort));
        UpState state = await().atMost(START_LIMIT)
                .pollInterval(Duration.ofMillis(200))
                .failFast("up exited early", () -> !next.isAlive())
                .until(() -> UpState.readRunning(dataDir).orElse(null), s -> s != null && s.pid() == next.pid());
        assertThat(redis.isAlive()).as("the orphan is stopped").isFalse();
        assertThat(state.ports().get(RunningStack.REDIS)).isEqualTo(redisPort);
        assertThat(state.redisPid()).isNotEqualTo(redis.pid());
        ProcessHandle second = ProcessHandle.of(state.redisPid()).orElseThrow();
        next.destroy();
        assertThat(next.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(second.isAlive()).isFalse();
    }

    /** up's Redis answers the password up.json names (what extauthz is given) and refuses everyone else. */
    private static void assertRedisServesTheStacksPasswordOnly(UpState state) throws Exception {
        assertThat(state.redisUrl())
                .isEqualTo("redis://127.0.0.1:" + state.ports().get(RunningStack.REDIS));
        String password = java.nio.file.Files.readString(Path.of(state.files().get(RunningStack.REDIS_PASSWORD)))
                .strip();
        assertThat(state.endpoints())
                .anyMatch(line ->
                        line.startsWith("redis") && line.contains(state.redisUrl()) && !line.contains(password));
        assertThat(LocalRedis.ping(state.ports().get(RunningStack.REDIS), password))
                .isTrue();
        assertThat(LocalRedis.ping(state.ports().get(RunningStack.REDIS), "not-the-password"))
                .isFalse();
    }

    /**
     * Plain up rehearses four eyes: the admin token opens a policy request and may not approve it; the second
     * person's token up wrote beside it approves it.
     */
    private void assertPolicyChangeNeedsTheSecondLocalPerson() throws IOException {
        String dir = dataDir.toString();
        CliRun opened = DevCliRun.of(
                "policy",
                "requests",
                "open",
                io.meshguard.testing.FixturePolicies.file("authz.yaml").toString(),
                "--reason",
                "rehearse the change",
                "--data-dir",
                dir);
        assertThat(opened.exit()).as(opened.err()).isZero();
        java.util.regex.Matcher id = java.util.regex.Pattern.compile("policy request (\\d+) \\(authz\\): pending")
                .matcher(opened.out());
        assertThat(id.find()).as(opened.out()).isTrue();
        CliRun own = DevCliRun.of("policy", "requests", "approve", id.group(1), "--reason", "mine", "--data-dir", dir);
        assertThat(own.exit()).isNotZero();
        assertThat(own.out() + own.err()).contains("403").contains("another person must approve it");
        Path approverToken = dataDir.resolve(RunningStack.XDS_APPROVER_TOKEN);
        assertThat(java.nio.file.Files.readString(approverToken)).startsWith("approver:");
        CliRun second = DevCliRun.of(
                "policy",
                "requests",
                "approve",
                id.group(1),
                "--reason",
                "read the diff and the replay",
                "--token-file",
                approverToken.toString(),
                "--data-dir",
                dir);
        assertThat(second.exit()).as(second.out() + second.err()).isZero();
        assertThat(second.out()).contains("policy request " + id.group(1) + " (authz): approved");
    }

    /**
     * The commands that talk to a running stack find it through --data-dir alone: the quickstart's Check and ext_proc
     * exchange, API keys (stdout is the key and nothing else), the xDS admin API (token included) and the audit log.
     */
    private void assertCliCommandsFindTheStackThroughTheDataDir(UpState state) throws Exception {
        String dir = dataDir.toString();
        String token = DevCliRun.of("dev", "token", "--data-dir", dir, "--sub", "alice", "--tenant", "t1")
                .out()
                .trim();
        CliRun allowed = DevCliRun.of(
                "authz",
                "send",
                "--data-dir",
                dir,
                "--host",
                "demo.local",
                "--path",
                "/demo/x",
                "--header",
                "authorization=Bearer " + token,
                "--header",
                "x-tenant-id=t1");
        assertThat(allowed.exit()).as(allowed.err()).isZero();
        assertThat(allowed.out())
                .startsWith("ALLOWED")
                .contains("upstream header set:     x-user-id: alice  (overwrite, append=false)")
                .contains("upstream header removed: authorization");
        CliRun denied = DevCliRun.of(
                "authz",
                "send",
                "--data-dir",
                dir,
                "--host",
                "demo.local",
                "--path",
                "/demo/x",
                "--header",
                "x-tenant-id=t1");
        assertThat(denied.out()).startsWith("DENIED: HTTP 401");

        CliRun masked = DevCliRun.of(
                "dlp",
                "send",
                "--data-dir",
                dir,
                "--response",
                "--content-type",
                "application/json",
                "--body",
                "{\"card\":\"4242 4242 4242 4242\"}");
        assertThat(masked.exit()).as(masked.err()).isZero();
        assertThat(masked.out())
                .startsWith("FORWARDED: the client receives")
                .doesNotContain("4242 4242 4242 4242")
                .contains("--- body ---\n{\"card\":\"");
        CliRun blocked = DevCliRun.of(
                "dlp",
                "send",
                "--data-dir",
                dir,
                "--path",
                "/v1/chat/completions",
                "--body",
                "{\"messages\":[{\"content\":\"my card is 4242 4242 4242 4242\"}]}");
        assertThat(blocked.out()).startsWith("BLOCKED: HTTP 403").doesNotContain("4242 4242");
        // The route contract: a profile the gateway route names, whatever the path; an unknown one fails closed.
        CliRun named = DevCliRun.of(
                "dlp",
                "send",
                "--data-dir",
                dir,
                "--profile",
                "llm",
                "--body",
                "{\"messages\":[{\"content\":\"my card is 4242 4242 4242 4242\"}]}");
        assertThat(named.out()).startsWith("BLOCKED: HTTP 403");
        CliRun unknownRule = DevCliRun.of(
                "authz",
                "send",
                "--data-dir",
                dir,
                "--host",
                "demo.local",
                "--path",
                "/demo/x",
                "--header",
                "authorization=Bearer " + token,
                "--header",
                "x-tenant-id=t1",
                "--authz-profile",
                "no-such-rule");
        assertThat(unknownRule.out()).startsWith("DENIED: HTTP 403").contains("unknown_profile");

        CliRun key = DevCliRun.of(
                "apikey",
                "create",
                "--data-dir",
                dir,
                "--name",
                "quickstart",
                "--owner",
                "partner-a",
                "--tenant",
                "t1");
        assertThat(key.exit()).as(key.err()).isZero();
        assertThat(key.out())
                .as("KEY=$(meshguard apikey create ...) gets the key alone")
                .matches("mgk_[0-9a-f]{16}_\\S+\n");
        CliRun keys = DevCliRun.of("apikey", "list", "--data-dir", dir);
        assertThat(keys.out().lines()).singleElement().asString().contains("name=quickstart");

        // quota commands find up's admin API, and with --direct-db up's database and Redis, all through up.json
        CliRun quota = DevCliRun.of(
                "quota",
                "reset",
                "--data-dir",
                dir,
                "--quota",
                "payments-monthly",
                "--caller",
                "tenant:t1",
                "--reason",
                "test");
        assertThat(quota.exit()).as(quota.err()).isZero();
        assertThat(quota.out()).contains("\"via\" : \"admin_api\"");
        CliRun direct = DevCliRun.of(
                "quota",
                "show",
                "--direct-db",
                "--data-dir",
                dir,
                "--policy",
                io.meshguard.testing.FixturePolicies.file("authz.yaml").toString(),
                "--quota",
                "payments-monthly",
                "--caller",
                "tenant:t1");
        assertThat(direct.exit()).as(direct.err()).isZero();
        assertThat(direct.err()).contains("live counters: the Redis of the `meshguard up` on");
        assertThat(direct.out()).contains("used=0 durable=0");

        // a quota reset through up reaches the Redis up's extauthz counts in: the caller is admitted again at once
        String partnerKey = DevCliRun.of(
                        "apikey",
                        "create",
                        "--data-dir",
                        dir,
                        "--name",
                        "statements",
                        "--owner",
                        "partner-q",
                        "--tenant",
                        "t2",
                        "--roles",
                        "statements-reader")
                .out()
                .strip();
        String partnerKeyId = partnerKey.split("_")[1];
        String[] statements = {
            "authz",
            "send",
            "--data-dir",
            dir,
            "--host",
            "partners.bank.example",
            "--path",
            "/v1/statements/1",
            "--header",
            "x-api-key=" + partnerKey,
            "--header",
            "x-tenant-id=t2"
        };
        for (int i = 0; i < 5; i++) {
            CliRun admitted = DevCliRun.of(statements);
            assertThat(admitted.out()).as(admitted.err()).startsWith("ALLOWED");
        }
        assertThat(DevCliRun.of(statements).out()).startsWith("DENIED: HTTP 429");
        CliRun reset = DevCliRun.of(
                "quota",
                "reset",
                "--data-dir",
                dir,
                "--quota",
                "partner-statements-daily",
                "--caller",
                "api_key:" + partnerKeyId,
                "--reason",
                "test");
        assertThat(reset.exit()).as(reset.err()).isZero();
        assertThat(DevCliRun.of(statements).out()).startsWith("ALLOWED");

        // the documented xds commands, through up's admin API
        Path sample = dataDir.resolve("sample.yaml");
        try (var in = io.meshguard.xds.XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            java.nio.file.Files.write(sample, in.readAllBytes());
        }
        CliRun validate = DevCliRun.of("xds", "validate", "--data-dir", dir, sample.toString());
        assertThat(validate.exit()).as(validate.out() + validate.err()).isZero();
        assertThat(validate.out()).contains(": valid (");
        CliRun publish = DevCliRun.of("xds", "publish", "--data-dir", dir, "--reason", "nothing changed");
        assertThat(publish.exit()).as(publish.err()).isZero();
        assertThat(publish.out()).contains("nothing to publish: the draft equals what is served");

        CliRun render = DevCliRun.of("xds", "render", "--data-dir", dir, "--group", "local");
        assertThat(render.exit()).as(render.err()).isZero();
        assertThat(render.out()).contains("127.0.0.1:" + state.ports().get(RunningStack.EXTAUTHZ));
        String bearer = java.nio.file.Files.readString(Path.of(state.files().get(RunningStack.XDS_ADMIN_TOKEN)))
                .strip();
        HttpResponse<String> fleet = http.send(
                HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + state.ports().get(RunningStack.XDS_ADMIN) + "/fleet"))
                        .header("Authorization", "Bearer " + bearer)
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(fleet.statusCode()).as("Bearer $(cat xds-admin-token)").isEqualTo(200);

        // An explicit --db with a wrong password (up's PostgreSQL demands one) says so, and where it came from.
        Path wrong =
                java.nio.file.Files.writeString(dataDir.resolveSibling(dataDir.getFileName() + "-wrong-pw"), "nope\n");
        CliRun refused = DevCliRun.of(
                "audit",
                "query",
                "--direct-db",
                "--db",
                state.jdbcUrl(),
                "--db-user",
                state.dbUser(),
                "--db-password-file",
                wrong.toString(),
                "--since",
                "1h");
        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err())
                .contains("refused the login of user '" + state.dbUser() + "'")
                .contains("password file " + wrong)
                .contains("--db-password-file FILE");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(
                        DevCliRun.of("audit", "query", "--data-dir", dir, "--since", "1h", "--subject", "alice")
                                .out())
                .contains("authz_decision"));
    }

    private static int indexOf(List<String> lines, String prefix) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).startsWith(prefix)) {
                return i;
            }
        }
        throw new AssertionError("no line starting with '" + prefix + "' in " + lines);
    }

    /** The walkthrough: up's dev issuer signs, up's extauthz (over gRPC, as Envoy calls it) allows and denies. */
    private void assertDevTokenIsAllowedOnlyForItsTenant(UpState state) {
        int port = state.endpoints().stream()
                .map(java.util.regex.Pattern.compile("^extauthz\\s+gRPC 127\\.0\\.0\\.1:(\\d+)")::matcher)
                .filter(java.util.regex.Matcher::find)
                .map(m -> Integer.parseInt(m.group(1)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no extauthz endpoint in " + state.endpoints()));
        assertThat(state.endpoints())
                .anyMatch(line -> line.startsWith("dev-issuer") && line.contains("/dev/jwks.json"));
        CliRun minted = DevCliRun.of("dev", "token", "--data-dir", dataDir.toString(), "--tenant", "t1");
        assertThat(minted.exit()).as(minted.err()).isZero();
        String token = minted.out().trim();
        io.grpc.ManagedChannel channel = io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", port)
                .usePlaintext()
                .build();
        try {
            var stub = io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc.newBlockingStub(channel);
            java.util.function.Function<String, io.envoyproxy.envoy.service.auth.v3.CheckResponse> check =
                    tenant -> stub.withDeadlineAfter(Duration.ofSeconds(30))
                            .check(io.meshguard.extauthz.tools.CheckRequests.of(
                                    "GET",
                                    "demo.local",
                                    "/demo/v1/chat",
                                    java.util.Map.of(
                                            "authorization",
                                            List.of("Bearer " + token),
                                            "x-tenant-id",
                                            List.of(tenant)),
                                    java.util.Map.of(),
                                    io.meshguard.extauthz.tools.CheckRequests.Encoding.HEADER_MAP));
            assertThat(check.apply("t1").hasOkResponse())
                    .as("dev token, own tenant")
                    .isTrue();
            assertThat(check.apply("t2").getDeniedResponse().getStatus().getCodeValue())
                    .as("other tenant")
                    .isEqualTo(403);
        } finally {
            channel.shutdownNow();
        }
    }

    /** A running {@code up}; what it prints (stdout and stderr) goes to {@code log}, read whole at each look. */
    private record RunningUp(Process process, UpState state, Path log) {
        List<String> output() {
            try {
                return java.nio.file.Files.readAllLines(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private RunningUp startUp() throws IOException {
        Process process = launch();
        Path log = logs.get(process);
        UpState state = await().atMost(START_LIMIT)
                .pollInterval(Duration.ofMillis(200))
                .failFast("up exited early", () -> !process.isAlive())
                .until(() -> UpState.readRunning(dataDir).orElse(null), s -> s != null);
        await().atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> get(state.statusUrl() + "/readyz").statusCode() == 200);
        return new RunningUp(process, state, log);
    }

    private Process launch() throws IOException {
        return launch(dataDir);
    }

    /** {@code up} on {@code dir} with every port 0 (tests run beside each other and beside a developer's stack). */
    private Process launch(Path dir, String... portFlags) throws IOException {
        List<String> command = new ArrayList<>(UpJvm.command());
        command.addAll(List.of(
                "up",
                "--data-dir",
                dir.toString(),
                "--policies",
                io.meshguard.testing.FixturePolicies.directory().toString()));
        List<String> given = List.of(portFlags);
        for (String flag : UpPorts.ANY.byFlag().keySet()) {
            if (!given.contains(flag)) {
                command.addAll(List.of(flag, "0"));
            }
        }
        command.addAll(given);
        // To a file, not a pipe: the JDK closes a pipe when the process exits, racing a reader still at its tail.
        Path log = java.nio.file.Files.createTempFile("meshguard-up-", ".log");
        log.toFile().deleteOnExit();
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        started.add(process);
        logs.put(process, log);
        return process;
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Connection connect(UpState state) throws Exception {
        return DriverManager.getConnection(state.jdbcUrl(), state.dbUser(), state.dbPassword());
    }
}
