package io.meshguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@code meshguard up} as a real child process, the way a user does, and stops it with SIGTERM. */
class UpCommandTest {
    private static final Duration START_LIMIT = Duration.ofMinutes(3);

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Process> started = new CopyOnWriteArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Process process : started) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    @Test
    void up_answersReadyz_thenSigtermStopsEverything_andSecondUpReusesTheData() throws Exception {
        RunningUp first = startUp();
        HttpResponse<String> ready = get(first.state().statusUrl() + "/readyz");
        assertThat(ready.statusCode()).isEqualTo(200);
        assertThat(ready.body()).startsWith("{\"ready\":true")
                .contains("\"name\":\"postgres\"", "\"name\":\"audit\"", "\"name\":\"policy:authz\"",
                        "\"name\":\"policy:dlp\"", "\"name\":\"xds:ads\"");
        assertThat(get(first.state().statusUrl() + "/metrics").body()).contains("jvm_memory_used_bytes");
        assertThat(first.output()).anyMatch(line -> line.contains("meshguard is up"));
        assertDevTokenIsAllowedOnlyForItsTenant(first.state());
        // DLP hash tokens and audit HMACs must stay comparable across restarts: the key is kept, owner-only.
        java.nio.file.Path hashKey = dataDir.resolve("dlp-hash-key");
        assertThat(java.nio.file.Files.getPosixFilePermissions(hashKey)).isEqualTo(
                java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        String key = java.nio.file.Files.readString(hashKey);

        try (Connection db = connect(first.state()); Statement sql = db.createStatement()) {
            sql.execute("create table up_test_marker(note text)");
            sql.execute("insert into up_test_marker values ('kept across restarts')");
        }
        ProcessHandle postgres = ProcessHandle.of(first.state().postgresPid()).orElseThrow();
        List<ProcessHandle> postgresProcesses = new ArrayList<>(postgres.descendants().toList());
        postgresProcesses.add(postgres);

        first.process().destroy(); // SIGTERM
        assertThat(first.process().waitFor(60, TimeUnit.SECONDS)).as("up exits after SIGTERM").isTrue();
        assertThat(first.process().exitValue()).isIn(0, 143);
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(postgresProcesses).noneMatch(ProcessHandle::isAlive));
        assertThat(dataDir.resolve(UpState.FILE_NAME)).doesNotExist();

        RunningUp second = startUp();
        try (Connection db = connect(second.state()); Statement sql = db.createStatement();
                ResultSet rows = sql.executeQuery("select note from up_test_marker")) {
            assertThat(rows.next()).isTrue();
            assertThat(rows.getString(1)).isEqualTo("kept across restarts");
        }
        assertThat(java.nio.file.Files.readString(hashKey)).isEqualTo(key);
        second.process().destroy();
        assertThat(second.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void secondUpOnTheSameDataDir_whileTheFirstRuns_failsWithAMessage() throws Exception {
        RunningUp first = startUp();

        Process second = launch();
        assertThat(second.waitFor(2, TimeUnit.MINUTES)).isTrue();
        String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertThat(second.exitValue()).isEqualTo(1);
        assertThat(output).contains("meshguard up:").contains(dataDir.resolve("postgres").toString());
        assertThat(get(first.state().statusUrl() + "/readyz").statusCode())
                .as("the first up keeps running")
                .isEqualTo(200);
        first.process().destroy();
        assertThat(first.process().waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    /** The walkthrough: up's dev issuer signs, up's extauthz (over gRPC, as Envoy calls it) allows and denies. */
    private void assertDevTokenIsAllowedOnlyForItsTenant(UpState state) {
        int port = state.endpoints().stream()
                .map(java.util.regex.Pattern.compile("^extauthz\\s+gRPC 127\\.0\\.0\\.1:(\\d+)")::matcher)
                .filter(java.util.regex.Matcher::find).map(m -> Integer.parseInt(m.group(1)))
                .findFirst().orElseThrow(() -> new AssertionError("no extauthz endpoint in " + state.endpoints()));
        assertThat(state.endpoints()).anyMatch(line -> line.startsWith("dev-issuer") && line.contains("/dev/jwks.json"));
        CliRun minted = CliRun.of("dev", "token", "--data-dir", dataDir.toString(), "--tenant", "t1");
        assertThat(minted.exit()).as(minted.err()).isZero();
        String token = minted.out().trim();
        io.grpc.ManagedChannel channel = io.grpc.ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        try {
            var stub = io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc.newBlockingStub(channel);
            java.util.function.Function<String, io.envoyproxy.envoy.service.auth.v3.CheckResponse> check = tenant ->
                    stub.withDeadlineAfter(Duration.ofSeconds(30)).check(io.meshguard.extauthz.tools.CheckRequests.of(
                            "GET", "demo.local", "/demo/v1/chat",
                            java.util.Map.of("authorization", List.of("Bearer " + token), "x-tenant-id", List.of(tenant)),
                            java.util.Map.of(), io.meshguard.extauthz.tools.CheckRequests.Encoding.HEADER_MAP));
            assertThat(check.apply("t1").hasOkResponse()).as("dev token, own tenant").isTrue();
            assertThat(check.apply("t2").getDeniedResponse().getStatus().getCodeValue()).as("other tenant").isEqualTo(403);
        } finally {
            channel.shutdownNow();
        }
    }

    private record RunningUp(Process process, UpState state, List<String> output) {}

    private RunningUp startUp() throws IOException {
        Process process = launch();
        List<String> output = new CopyOnWriteArrayList<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader reader = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                reader.lines().forEach(output::add);
            } catch (IOException e) {
                output.add("<output closed: " + e + ">");
            }
        });
        UpState state = await().atMost(START_LIMIT)
                .pollInterval(Duration.ofMillis(200))
                .failFast("up exited early: " + output, () -> !process.isAlive())
                .until(() -> UpState.readRunning(dataDir).orElse(null), s -> s != null);
        await().atMost(Duration.ofSeconds(30))
                .ignoreExceptions()
                .until(() -> get(state.statusUrl() + "/readyz").statusCode() == 200);
        return new RunningUp(process, state, output);
    }

    private Process launch() throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                        Main.class.getName(), "up", "--data-dir", dataDir.toString(),
                        "--status-port", "0", "--pg-port", "0", "--policies", "../policies")
                .redirectErrorStream(true)
                .start();
        started.add(process);
        return process;
    }

    private HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static Connection connect(UpState state) throws Exception {
        return DriverManager.getConnection(state.jdbcUrl(), state.dbUser(), state.dbPassword());
    }
}
