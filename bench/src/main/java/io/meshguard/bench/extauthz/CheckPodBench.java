package io.meshguard.bench.extauthz;

import com.zaxxer.hikari.HikariDataSource;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.bench.ProcReadings;
import io.meshguard.cli.dev.DevIssuer;
import io.meshguard.cli.dev.DevIssuerFiles;
import io.meshguard.cli.dev.DevJwksServer;
import io.meshguard.cli.dev.DevPolicy;
import io.meshguard.cli.dev.DevSigningKey;
import io.meshguard.cli.dev.DevToken;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.extauthz.tools.CheckRequests;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The Check as a user's extauthz pod serves it, beside the no-op a user would compare it with, every server in a JVM
 * of its own started with the pod's JVM flags ({@code JAVA_TOOL_OPTIONS} of {@code manifests/istio/base/extauthz.yaml},
 * plus {@code -XX:MaxRAM} and {@code -XX:ActiveProcessorCount} for the container's limits) and driven from this
 * process. CPU per Check is the server process's user + system time from {@code /proc/<pid>/stat}, so the load
 * generator's CPU is never counted.
 *
 * <p>Servers (each optional with {@code -Dservers=a,b,...}):
 *
 * <ol type="a">
 *   <li>{@code plain}: a no-op Check server on grpc-java's defaults ({@link PlainNoopCheckServer}), the baseline;
 *   <li>{@code hosted}: the same no-op on the runtime's {@code GrpcServerHost} ({@link NoopCheckServer}), the
 *       baseline {@link CheckCpuOverGrpc} used;
 *   <li>{@code harness}: {@link CheckServerProcess}, the server {@link CheckCpuOverGrpc} measured (its JWT scenario:
 *       the bench's 8-route policy, audit events handed to a counting sink, three servers in one JVM);
 *   <li>{@code pod}: {@code meshguard extauthz} (the production entry point, {@code io.meshguard.cli.Main}) configured
 *       by the environment variables of the manifest: the shipped {@code policies/authz.yaml} with the development
 *       issuer added as {@code meshguard up} adds it, a cached dev JWT, audit written to a real (embedded) PostgreSQL
 *       with its spool, JSON logs at the shipped level on standard error, Prometheus metrics; no Redis (local rate
 *       limits), no subscription controller (no product routes) and tracing off;
 *   <li>{@code nodb}: the same command without a database and with {@code audit.decision_log=off}: the decisions are
 *       recorded nowhere, so (d) against (e) is what the audit writer costs the pod.
 * </ol>
 *
 * <p>Closed loop (32 Checks in flight on one channel) for throughput, open loop at fixed rates for p99 (latency from
 * the intended send time), servers interleaved round by round, medians shown. The PostgreSQL server's own CPU (another
 * pod in a cluster) is shown apart. After the run the audit rows are counted: the pod's Checks must all be there.
 *
 * <p>Arguments (optional): seconds per measurement (default 5), fixed rates (default 2000), rounds (default 3).
 * {@code -Dwarmup=SECONDS}: closed-loop warm-up per server before the first round (default: the measurement's length,
 * at least 5 s).
 * {@code -Dprofile=FILE} records a JFR profile of the pod's JVM (execution and CPU-time samples every 2 ms, allocation
 * samples). A factor is paired in one run by naming a server
 * twice with a number and JVM flags for the second, e.g. {@code -Dservers=pod,pod2 -Dflags.pod2=-Dkey=value}; two
 * builds are paired the same way with {@code -Dclasspath.pod=DIR_OR_JAR}, which puts the build before a change first
 * on that server's class path. A benchmark, not a test: run it by hand
 * (docs/benchmarks.md, "extauthz: the Check").
 */
public final class CheckPodBench {
    private static final String MANIFEST = "manifests/istio/base/extauthz.yaml";
    /** The container's limits in the same manifest (memory 768Mi, cpu 2), which the JVM would see in the pod. */
    private static final List<String> CONTAINER_LIMITS = List.of("-XX:MaxRAM=768m", "-XX:ActiveProcessorCount=2");

    /** A server under test: its process, the port it answers Check on, and the request it must allow. */
    private record Server(String key, String name, Process process, int port, CheckRequest request) {}

    /** One measurement of one server. */
    private record Sample(
            double perSecond, double cpuNanos, double postgresNanos, long p50, long p99, boolean saturated) {}

    private CheckPodBench() {}

    public static void main(String[] args) throws Exception {
        Duration seconds = Duration.ofSeconds(args.length > 0 ? Integer.parseInt(args[0]) : 5);
        List<Integer> rates = new ArrayList<>();
        for (String r : (args.length > 1 ? args[1] : "2000").split(",")) {
            rates.add(Integer.parseInt(r.trim()));
        }
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        List<String> wanted = Arrays.asList(
                System.getProperty("servers", "plain,hosted,harness,pod,nodb").split(","));
        Optional<Path> profile =
                Optional.ofNullable(System.getProperty("profile")).map(Path::of);
        List<String> jvmFlags = podJvmFlags();
        // on a loaded machine C2 is still compiling the pod after a few seconds: -Dwarmup=SECONDS per server
        Duration warmUp = Duration.ofSeconds(Long.getLong("warmup", Math.max(5, seconds.toSeconds())));

        Path dir = Files.createTempDirectory("check-pod-bench");
        List<Server> servers = new ArrayList<>();
        List<ManagedChannel> channels = new ArrayList<>();
        DevSigningKey signingKey = DevSigningKey.createOrLoad(DevIssuerFiles.under(dir.resolve("issuer")));
        DevJwksServer jwks = new DevJwksServer("127.0.0.1", 0, signingKey.publicJwks());
        jwks.start();
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("pg"), 0);
                HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"))) {
            Migrations.apply(ds);
            Path policy = dir.resolve("policies").resolve("authz.yaml");
            Files.createDirectories(policy.getParent());
            Files.writeString(policy, withoutDemoRateLimit(devPolicy(DevIssuer.jwksUri(jwks.port()))));
            String token = devToken(signingKey);
            CheckRequest podRequest = podRequest(token);

            Map<String, String> dbEnv = Map.of(
                    "MESHGUARD_DB_URL", pg.jdbcUrl(),
                    "MESHGUARD_DB_USER", pg.user(),
                    "MESHGUARD_DB_PASSWORD_FILE", pg.passwordFile().toString());
            for (String key : wanted) {
                // "pod2" is the pod again, with the JVM flags of -Dflags.pod2 added: a factor paired in one run
                String base = key.replaceAll("[0-9]+$", "");
                List<String> flags = new ArrayList<>(jvmFlags);
                String extra = System.getProperty("flags." + key, "").trim();
                if (!extra.isEmpty()) {
                    flags.addAll(Arrays.asList(extra.split(" ")));
                }
                String first = System.getProperty("classpath." + key, "").trim();
                String with = (extra.isEmpty() ? "" : " + " + extra)
                        + (first.isEmpty() ? "" : " [first on class path: " + first + "]");
                if (base.equals("pod")) {
                    // CPU-time samples (JDK 25) as well as execution samples, both every 2 ms: on a loaded machine
                    // execution samples alone under-count the threads that wait for a CPU
                    // a second pod ("pod2") records to FILE.pod2, not over the first one's recording
                    String file = key.equals("pod") ? "" : "." + key;
                    profile.ifPresent(p -> flags.add("-XX:StartFlightRecording=filename=" + p + file
                            + ",settings=profile,jdk.ExecutionSample#period=2ms,jdk.CPUTimeSample#enabled=true,"
                            + "jdk.CPUTimeSample#throttle=2ms"));
                }
                servers.add(
                        switch (base) {
                            case "plain" ->
                                portLine(
                                        key,
                                        "(a) no-op, plain grpc-java (defaults), own JVM" + with,
                                        flags,
                                        PlainNoopCheckServer.class,
                                        podRequest,
                                        dir);
                            case "hosted" ->
                                portLine(
                                        key,
                                        "(b) no-op on GrpcServerHost (CheckCpuOverGrpc's baseline), own JVM" + with,
                                        flags,
                                        NoopCheckServer.class,
                                        podRequest,
                                        dir);
                            case "harness" -> harness(key, with, flags, dir);
                            case "pod" ->
                                extauthz(
                                        key,
                                        "(d) meshguard extauthz as the pod runs it: audit to PostgreSQL" + with,
                                        flags,
                                        policy,
                                        dbEnv,
                                        podRequest,
                                        dir);
                            case "nodb" ->
                                extauthz(
                                        key,
                                        "(e) the same without a database, decision log off (audit nowhere)" + with,
                                        flags,
                                        policy,
                                        Map.of("MESHGUARD_AUDIT_DECISION_LOG", "off"),
                                        podRequest,
                                        dir);
                            default ->
                                throw new IllegalArgumentException("no server " + key
                                        + " (servers: plain, hosted, harness, pod, nodb, each optionally followed by a"
                                        + " number)");
                        });
            }
            long auditBefore = auditEvents(ds);
            List<LoadGenerator> gens = new ArrayList<>();
            for (Server s : servers) {
                gens.add(LoadGenerator.onLoopback(s.port(), s.request(), channels));
            }
            for (int i = 0; i < gens.size(); i++) {
                LoadGenerator.Result warm = gens.get(i).closedLoop(32, warmUp);
                if (warm.notAllowed() > 0) {
                    throw new IllegalStateException(servers.get(i).name() + ": " + warm.notAllowed()
                            + " Checks were not allowed; the scenario is broken");
                }
            }
            System.out.printf(
                    "JDK %s, %d CPUs, %s; server JVM flags %s; %d s per measurement, fixed rates %s/s, %d"
                            + " interleaved rounds (median shown); CPU = the server process's user+system time"
                            + " (/proc), load average before: %s%n",
                    Runtime.version(),
                    Runtime.getRuntime().availableProcessors(),
                    ProcReadings.cpuModel(),
                    String.join(" ", jvmFlags),
                    seconds.toSeconds(),
                    rates,
                    rounds,
                    ProcReadings.loadAverage());
            List<List<Sample>> closed = new ArrayList<>();
            Map<Integer, List<List<Sample>>> open = new LinkedHashMap<>();
            servers.forEach(s -> closed.add(new ArrayList<>()));
            for (int rate : rates) {
                List<List<Sample>> perServer = new ArrayList<>();
                servers.forEach(s -> perServer.add(new ArrayList<>()));
                open.put(rate, perServer);
            }
            long podChecks = 0;
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < gens.size(); i++) {
                    LoadGenerator g = gens.get(i);
                    closed.get(i).add(measure(servers.get(i), ds, () -> g.closedLoop(32, seconds)));
                }
                for (int rate : rates) {
                    for (int i = 0; i < gens.size(); i++) {
                        LoadGenerator g = gens.get(i);
                        open.get(rate).get(i).add(measure(servers.get(i), ds, () -> g.openLoop(rate, seconds)));
                    }
                }
                System.out.printf(
                        "round %d of %d done, load average %s%n", round + 1, rounds, ProcReadings.loadAverage());
                for (int i = 0; i < servers.size(); i++) {
                    // each round's closed-loop figures: servers measured one after another form the pairs
                    Sample last = closed.get(i).get(round);
                    System.out.printf(
                            "  %s: %.0f Checks/s, %.1f µs CPU per Check%n",
                            servers.get(i).key(), last.perSecond(), last.cpuNanos() / 1000);
                }
            }
            print("Closed loop, 32 Checks in flight on one channel", servers, closed, false);
            for (int rate : rates) {
                print(
                        "Open loop at " + rate + " Checks/s (latency from the intended send time)",
                        servers,
                        open.get(rate),
                        true);
            }
            if (wanted.stream().anyMatch(k -> k.startsWith("pod"))) {
                // the writer batches: give it time to drain, then every Check the pod allowed must be a row
                Thread.sleep(3000);
                System.out.printf(
                        "%naudit rows written by the pod servers during the run: %d (PostgreSQL, table audit_event)%n",
                        auditEvents(ds) - auditBefore);
            }
            System.out.printf("load average after: %s; server logs in %s%n", ProcReadings.loadAverage(), dir);
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
            for (Server s : servers) {
                stop(s.process());
            }
            jwks.close();
        }
    }

    /** The shipped {@code policies/authz.yaml} with the dev issuer and its routes, as {@code meshguard up} runs it. */
    static String devPolicy(java.net.URI jwksUri) throws Exception {
        return new DevPolicy()
                .compose(
                        "policies/authz.yaml",
                        Files.readString(repositoryRoot().resolve("policies/authz.yaml")),
                        jwksUri,
                        Optional.empty());
    }

    /** A dev token for the demo route, as {@code meshguard dev token} mints it; one for the whole run (cached). */
    static String devToken(DevSigningKey key) {
        return key.sign(new DevToken(
                        "alice",
                        "t1",
                        List.of(DevIssuer.DEMO_ROLE),
                        List.of("orders:read"),
                        List.of(DevIssuer.AUDIENCE),
                        Duration.ofHours(2))
                .claims(Instant.now()));
    }

    /**
     * The dev policy with {@code rate_limit: off} on its demo route: the shipped tiers
     * (5 requests per second per tenant for {@code free}) would answer nearly every Check of a load test with 429.
     */
    static String withoutDemoRateLimit(String devPolicy) {
        String route = "- name: " + DevIssuer.DEMO_ROUTE + "\n";
        int at = devPolicy.indexOf(route);
        int auth = devPolicy.indexOf("  auth: jwt\n", at);
        if (at < 0 || auth < 0) {
            throw new IllegalStateException("the dev policy has no route " + DevIssuer.DEMO_ROUTE + " with auth: jwt");
        }
        int end = auth + "  auth: jwt\n".length();
        return devPolicy.substring(0, end) + "  rate_limit: off\n" + devPolicy.substring(end);
    }

    /** The request Envoy sends for {@code GET demo.local/demo/orders/42} with the dev token, as at the edge. */
    static CheckRequest podRequest(String token) {
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("authorization", List.of("Bearer " + token));
        headers.put("x-tenant-id", List.of("t1")); // the shipped policy requires it (settings.required_headers)
        headers.put("x-request-id", List.of("3f0c2a53-8a51-4c1e-9d0e-6c0f5c1b2a77"));
        headers.put("user-agent", List.of("curl/8.5.0"));
        headers.put("accept", List.of("*/*"));
        headers.put("x-forwarded-proto", List.of("https"));
        return CheckRequests.of(
                "GET", DevIssuer.DEMO_HOST, "/demo/orders/42", headers, Map.of(), CheckRequests.Encoding.HEADERS);
    }

    /**
     * {@code JAVA_TOOL_OPTIONS} of the extauthz container in the manifest, and its limits: what the pod's JVM runs
     * with. Read from the file so that a change there changes the benchmark.
     */
    static List<String> podJvmFlags() throws IOException {
        List<String> lines = Files.readAllLines(repositoryRoot().resolve(MANIFEST));
        for (int i = 0; i < lines.size() - 1; i++) {
            if (lines.get(i).trim().equals("- name: JAVA_TOOL_OPTIONS")) {
                String value = lines.get(i + 1).trim();
                if (!value.startsWith("value: \"")) {
                    break;
                }
                List<String> flags = new ArrayList<>(
                        Arrays.asList(value.substring(8, value.length() - 1).split(" ")));
                flags.removeIf(f -> f.startsWith("-Djava.io.tmpdir"));
                flags.addAll(CONTAINER_LIMITS);
                return flags;
            }
        }
        throw new IllegalStateException(MANIFEST + ": no JAVA_TOOL_OPTIONS value for the extauthz container");
    }

    /** The repository's root: the working directory or the nearest folder above it holding the manifests. */
    static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(MANIFEST))) {
                return p;
            }
        }
        throw new IllegalStateException("run from the repository: no " + MANIFEST + " here or above");
    }

    private static Server portLine(
            String key, String name, List<String> flags, Class<?> main, CheckRequest request, Path dir)
            throws Exception {
        Process p = java(key, flags, main.getName(), List.of(), Map.of(), dir.resolve(key + ".err"))
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith("PORT ")) {
                return new Server(
                        key, name, p, Integer.parseInt(line.substring(5).trim()), request);
            }
        }
        throw new IllegalStateException(name + ": the server ended before it listened (see " + dir + ")");
    }

    private static Server harness(String key, String with, List<String> flags, Path dir) throws Exception {
        Process p = java(key, flags, CheckServerProcess.class.getName(), List.of(), Map.of(), dir.resolve(key + ".err"))
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            if (line.startsWith("READY ")) {
                Map<String, String> fields = new LinkedHashMap<>();
                for (String f : line.substring(6).split(" ")) {
                    int eq = f.indexOf('=');
                    fields.put(f.substring(0, eq), f.substring(eq + 1));
                }
                return new Server(
                        key,
                        "(c) CheckCpuOverGrpc's extauthz (8-route bench policy, counting audit sink), own JVM" + with,
                        p,
                        Integer.parseInt(fields.get("jwt")),
                        ExtAuthzBench.request("Bearer " + fields.get("token"), null));
            }
        }
        throw new IllegalStateException("the harness server ended before it was ready (see " + dir + ")");
    }

    /**
     * {@code meshguard extauthz} configured as the manifest configures it (environment variables only), on ports of
     * our choosing; waits until it answers a Check with an allow.
     */
    private static Server extauthz(
            String key,
            String name,
            List<String> flags,
            Path policy,
            Map<String, String> extraEnv,
            CheckRequest request,
            Path dir)
            throws Exception {
        int grpc = freePort();
        int http = freePort();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("MESHGUARD_GRPC_PORT", Integer.toString(grpc));
        env.put("MESHGUARD_HTTP_PORT", Integer.toString(http));
        env.put("MESHGUARD_GRPC_BIND", "127.0.0.1");
        env.put("MESHGUARD_HTTP_BIND", "127.0.0.1");
        env.put("MESHGUARD_GRPC_DRAIN_TIMEOUT", "0s");
        env.put("MESHGUARD_POLICY_FILE", policy.toString());
        env.put("MESHGUARD_AUDIT_SPOOL_DIR", dir.resolve(key + "-spool").toString());
        env.put("HOSTNAME", "meshguard-extauthz-0");
        env.putAll(extraEnv);
        ProcessBuilder pb = java(
                        key, flags, "io.meshguard.cli.Main", List.of("extauthz"), env, dir.resolve(key + ".err"))
                .redirectOutput(dir.resolve(key + ".out").toFile());
        Process p = pb.start();
        Server server = new Server(key, name, p, grpc, request);
        ManagedChannel channel =
                NettyChannelBuilder.forAddress("127.0.0.1", grpc).usePlaintext().build();
        try {
            LoadGenerator probe = new LoadGenerator(channel, request);
            long startSeconds = Long.getLong("startSeconds", 120);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(startSeconds);
            while (System.nanoTime() < deadline) {
                if (!p.isAlive()) {
                    throw new IllegalStateException(name + ": ended at start (see " + dir.resolve(key + ".err") + ")");
                }
                LoadGenerator.Result r = probe.closedLoop(1, Duration.ofMillis(200));
                if (r.count() > 0 && r.notAllowed() == 0) {
                    return server;
                }
                Thread.sleep(500);
            }
            String last = io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(5, TimeUnit.SECONDS)
                    .check(request)
                    .toString();
            stop(p);
            throw new IllegalStateException(name + ": no allowed Check within " + startSeconds + " s (see " + dir
                    + "); the last answer: " + last);
        } finally {
            channel.shutdownNow();
        }
    }

    private static ProcessBuilder java(
            String key, List<String> flags, String main, List<String> args, Map<String, String> env, Path stderr) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(flags);
        command.add("-cp");
        // -Dclasspath.KEY=DIRS puts DIRS first on that server's class path: a build before a change, paired in one run
        String first = System.getProperty("classpath." + key, "").trim();
        command.add(
                (first.isEmpty() ? "" : first + java.io.File.pathSeparator) + System.getProperty("java.class.path"));
        command.add(main);
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectError(stderr.toFile());
        // nothing of this shell's configuration leaks into a server: only what the manifest sets
        pb.environment().keySet().removeIf(k -> k.startsWith("MESHGUARD_") || k.equals("JAVA_TOOL_OPTIONS"));
        pb.environment().putAll(env);
        return pb;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static void stop(Process p) throws InterruptedException {
        try {
            p.getOutputStream().close(); // the no-op servers and the harness end at end of input
        } catch (IOException ignored) {
            // already gone
        }
        p.destroy();
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
            p.destroyForcibly();
        }
    }

    private interface Load {
        LoadGenerator.Result run() throws InterruptedException;
    }

    private static Sample measure(Server server, HikariDataSource ds, Load load) throws Exception {
        long cpu0 = ProcReadings.processCpuNanos(server.process().pid());
        long pg0 = ProcReadings.postgresCpuNanos(ds);
        LoadGenerator.Result r = load.run();
        long cpu1 = ProcReadings.processCpuNanos(server.process().pid());
        long pg1 = ProcReadings.postgresCpuNanos(ds);
        if (r.notAllowed() > 0) {
            throw new IllegalStateException(server.name() + ": " + r.notAllowed() + " Checks were not allowed");
        }
        double n = r.count();
        return new Sample(
                r.throughput(),
                (cpu1 - cpu0) / n,
                (pg1 - pg0) / n,
                r.latency().getValueAtPercentile(50),
                r.latency().getValueAtPercentile(99),
                r.saturated());
    }

    /** Rows in {@code audit_event} now. */
    static long auditEvents(HikariDataSource ds) throws Exception {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select count(*) from audit_event")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void print(String title, List<Server> servers, List<List<Sample>> samples, boolean latency) {
        System.out.printf("%n%s:%n%n", title);
        System.out.println(
                "| server | Checks/s | vs (a) | server µs CPU per Check | vs (a) | PostgreSQL µs CPU per Check"
                        + (latency ? " | p50 µs | p99 µs | p99 vs (a) |" : " |"));
        System.out.println("|---|---:|---:|---:|---:|---:|" + (latency ? "---:|---:|---:|" : ""));
        double baseRate = median(samples.get(0), Sample::perSecond);
        double baseCpu = median(samples.get(0), Sample::cpuNanos);
        double baseP99 = median(samples.get(0), s -> s.p99());
        for (int i = 0; i < servers.size(); i++) {
            List<Sample> s = samples.get(i);
            double rate = median(s, Sample::perSecond);
            double cpu = median(s, Sample::cpuNanos);
            String row = String.format(
                    "| %s | %.0f | %.2f | %.1f | %.2f | %.1f |",
                    servers.get(i).name(),
                    rate,
                    rate / baseRate,
                    cpu / 1000,
                    cpu / baseCpu,
                    median(s, Sample::postgresNanos) / 1000);
            if (latency) {
                boolean saturated = s.stream().filter(Sample::saturated).count() > s.size() / 2;
                double p99 = median(s, x -> x.p99());
                row += saturated
                        ? " saturated | saturated | - |"
                        : String.format(" %.0f | %.0f | %.2f |", median(s, x -> x.p50()), p99, p99 / baseP99);
            }
            System.out.println(row);
        }
    }

    private static double median(List<Sample> samples, ToDoubleFunction<Sample> by) {
        double[] v = samples.stream().mapToDouble(by).sorted().toArray();
        return v[v.length / 2];
    }
}
