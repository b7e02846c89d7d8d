package io.meshguard.bench.catalog;

import static io.meshguard.bench.catalog.RevocationLatencyBench.pct;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.LocalStack;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.UpPorts;
import io.meshguard.devstack.xds.XdsStackPart;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * How long one subscription change takes to reach three extauthz replicas with a large catalogue, end to end as a
 * provider makes it: the stack {@code meshguard up} starts (controller with its admin REST API and ADS port, on a
 * real PostgreSQL), {@code subs} subscriptions across {@code tenants} tenants bulk-loaded by SQL before it starts,
 * and three replica processes ({@link SubscriptionReplicaProcess}, extauthz's subscription state client in a JVM of
 * its own each). Each probe suspends or resumes one subscription with the admin REST call
 * ({@code POST /v1/provider/subscriptions/{id}/suspend|resume}) and waits until all three replicas decide the new
 * way. Baseline in the same run: a bare PostgreSQL NOTIFY from one connection to a LISTEN on another. Also reported:
 * how long the replicas took to receive the whole state when they connected (the full resync), and each replica's
 * heap for the state. The replicas follow the delta method ({@code delta}: per-tenant resources), state of the world
 * ({@code sotw}: the whole state per change, as replicas of earlier releases do), or first one then the other in the
 * same run ({@code both}, the default), against the same controller and catalogue.
 *
 * <pre>java -cp … io.meshguard.bench.catalog.SubscriptionDeltaBench [subs=100000] [tenants=1000] [probes=100]
 *     [sotw|delta|both]</pre>
 */
public final class SubscriptionDeltaBench {
    private static final Duration PROBE_LIMIT = Duration.ofSeconds(120);
    private static final String PROBE_SUBSCRIPTION = "s-0000-00-0";
    private static final String PROBE_PUBLISH = "p-0001-dev-local";
    private static final String PROBE_CREDENTIAL = "bk00000000000000";

    public static void main(String[] args) throws Exception {
        int subs = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int tenants = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int probes = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        List<String> modes = args.length > 3 && !args[3].equals("both") ? List.of(args[3]) : List.of("sotw", "delta");
        int apps = 10;
        int perApp = Math.max(1, subs / (tenants * apps));
        if (perApp >= tenants) {
            throw new IllegalArgumentException("each application subscribes to publishes of other tenants: subs / "
                    + (tenants * apps) + " must be below tenants");
        }
        Path dir = Files.createTempDirectory("meshguard-subdelta-bench");
        LocalPostgres pg = LocalPostgres.start(dir.resolve("pg"), 0);
        HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"));
        ComponentStack stack = new ComponentStack();
        List<Replica> replicas = new ArrayList<>();
        try {
            Migrations.apply(ds);
            long t0 = System.nanoTime();
            load(ds, tenants, apps, perApp);
            System.out.printf(
                    "loaded %d tenants, %d applications and credentials, %d subscriptions in %.1f s%n",
                    tenants, tenants * apps, tenants * apps * perApp, (System.nanoTime() - t0) / 1e9);
            ProcessMetrics metrics = ProcessMetrics.create();
            StackContext context = new StackContext(
                    metrics,
                    ds,
                    pg.dbSettings("meshguard-bench"),
                    dir.resolve("data"),
                    io.meshguard.testing.FixturePolicies.directory(),
                    UpPorts.ANY,
                    RedisSettings.none(),
                    Tracing.disabled());
            LocalStack local = LocalStack.start(stack, context, component -> {});
            XdsStackPart xds = local.part(XdsStackPart.class);
            String token = adminToken(xds.tokenFile());
            long[] notify = RevocationLatencyBench.notifyRoundTrips(ds, probes, 1_000_000);
            print("NOTIFY -> LISTEN (baseline)", notify);
            boolean active = true;
            for (String protocol : modes) {
                System.out.printf("%n== replicas following %s ==%n", protocol);
                active = probe(xds, token, protocol, probes, notify, active, replicas, tenants * apps * perApp);
                replicas.forEach(Replica::stop);
                replicas.clear();
            }
        } finally {
            replicas.forEach(Replica::stop);
            stack.close();
            ds.close();
            pg.close();
        }
    }

    /**
     * Starts three replicas following {@code protocol}, waits for their full state, then probes; returns whether the
     * probe subscription is active afterwards.
     */
    private static boolean probe(
            XdsStackPart xds,
            String token,
            String protocol,
            int probes,
            long[] notify,
            boolean activeAtStart,
            List<Replica> replicas,
            int total)
            throws Exception {
        boolean active = activeAtStart;
        long connect = System.nanoTime();
        for (int i = 0; i < 3; i++) {
            replicas.add(Replica.start(xds.adsPort(), "bench-replica-" + protocol + "-" + i, protocol));
        }
        for (Replica r : replicas) {
            r.await(active ? "granted" : "denied", connect, Duration.ofMinutes(10));
        }
        System.out.printf(
                "full state on connect: all 3 replicas decided after %.0f ms%n", (System.nanoTime() - connect) / 1e6);
        HttpClient http = HttpClient.newHttpClient();
        List<Long> push = new ArrayList<>();
        List<Long> call = new ArrayList<>();
        for (int i = 0; i < probes; i++) {
            long start = System.nanoTime();
            String action = active ? "suspend" : "resume";
            HttpResponse<String> answer = http.send(
                    HttpRequest.newBuilder(URI.create(
                                    xds.adminUrl() + "/v1/provider/subscriptions/" + PROBE_SUBSCRIPTION + "/" + action))
                            .header("Authorization", "Bearer " + token)
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"reason\": \"probe " + i + "\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            long called = System.nanoTime();
            if (answer.statusCode() != 200) {
                throw new IllegalStateException(action + " answered " + answer.statusCode() + ": " + answer.body());
            }
            active = !active;
            long reached = 0;
            boolean late = false;
            for (Replica r : replicas) {
                long at = r.await(active ? "granted" : "denied", start, PROBE_LIMIT);
                if (at < 0) {
                    late = true;
                    break;
                }
                reached = Math.max(reached, at);
            }
            if (late) {
                System.out.printf("probe %d: not all replicas within %s; stopping%n", i, PROBE_LIMIT);
                break;
            }
            push.add(reached - start);
            call.add(called - start);
        }
        long[] pushed = push.stream().mapToLong(Long::longValue).toArray();
        print(
                "admin REST call (suspend/resume) answered",
                call.stream().mapToLong(Long::longValue).toArray());
        print("change -> all 3 replicas decide anew (" + protocol + ")", pushed);
        if (pushed.length > 0) {
            System.out.printf(
                    "ratio to baseline p50 %.1fx, p99 %.1fx; goal p99 <= 2000 ms: %s%n",
                    pct(pushed, 50) / pct(notify, 50),
                    pct(pushed, 99) / pct(notify, 99),
                    pct(pushed, 99) / 1e6 <= 2000 ? "met" : "MISSED");
        }
        for (Replica r : replicas) {
            long heap = r.heap() - r.base;
            System.out.printf(
                    "%s: state heap %.1f MB (%.1f MB per 100,000 subscriptions)%n",
                    r.name, heap / 1e6, heap / 1e6 * 100_000 / total);
        }
        return active;
    }

    /**
     * Tenant {@code i} provides one product with one plan and one publish on cluster {@code local}, and is the
     * customer of {@code apps} applications with an API-key credential each; application {@code j} subscribes to the
     * publishes of the {@code perApp} tenants after {@code i}.
     */
    private static void load(HikariDataSource ds, int tenants, int apps, int perApp) throws Exception {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("insert into cluster (id, region) values ('local', 'local') on conflict do nothing");
            s.execute("insert into tenant (id) select 't' || lpad(i::text, 4, '0') from generate_series(0, "
                    + (tenants - 1) + ") i");
            s.execute("insert into product (id, tenant, name, visibility, state, updated_by)"
                    + " select 'p-' || lpad(i::text, 4, '0'), 't' || lpad(i::text, 4, '0'), 'P' || i,"
                    + " 'public', 'published', 'bench' from generate_series(0, " + (tenants - 1) + ") i");
            s.execute("insert into plan (id, product_id, name, state, approval, auth_modes)"
                    + " select 'p-' || lpad(i::text, 4, '0') || '-free', 'p-' || lpad(i::text, 4, '0'), 'free',"
                    + " 'published', 'auto', array['apikey'] from generate_series(0, " + (tenants - 1) + ") i");
            s.execute("insert into product_publish (id, product_id, cluster_id, environment, auth_mode, state, host,"
                    + " gateway_group) select 'p-' || lpad(i::text, 4, '0') || '-dev-local', 'p-' || lpad(i::text,"
                    + " 4, '0'), 'local', 'dev', 'apikey', 'published', 'p-' || lpad(i::text, 4, '0') ||"
                    + " '.dev.local.api.bench.test', 'bench' from generate_series(0, " + (tenants - 1) + ") i");
            s.execute("insert into application (id, tenant, name, owner)"
                    + " select 'a-' || lpad(i::text, 4, '0') || '-' || lpad(j::text, 2, '0'), 't' || lpad(i::text, 4,"
                    + " '0'), 'App ' || j, 'bench' from generate_series(0, " + (tenants - 1) + ") i,"
                    + " generate_series(0, " + (apps - 1) + ") j");
            s.execute("insert into api_keys (key_id, secret_sha256, name, owner, tenant, tier)"
                    + " select 'bk' || lpad(i::text, 4, '0') || lpad(j::text, 2, '0') || '00000000',"
                    + " decode(repeat('00', 32), 'hex'), 'k', 'bench', 't' || lpad(i::text, 4, '0'), 'free'"
                    + " from generate_series(0, " + (tenants - 1) + ") i, generate_series(0, " + (apps - 1) + ") j");
            s.execute("insert into credential (id, kind, application_id, tenant, state, api_key_id)"
                    + " select 'bk' || lpad(i::text, 4, '0') || lpad(j::text, 2, '0') || '00000000', 'apikey',"
                    + " 'a-' || lpad(i::text, 4, '0') || '-' || lpad(j::text, 2, '0'), 't' || lpad(i::text, 4, '0'),"
                    + " 'active', 'bk' || lpad(i::text, 4, '0') || lpad(j::text, 2, '0') || '00000000'"
                    + " from generate_series(0, " + (tenants - 1) + ") i, generate_series(0, " + (apps - 1) + ") j");
            s.execute("insert into subscription (id, application_id, publish_id, plan_id, state, provider_tenant,"
                    + " customer_tenant, requested_by) select 's-' || lpad(i::text, 4, '0') || '-' || lpad(j::text,"
                    + " 2, '0') || '-' || k, 'a-' || lpad(i::text, 4, '0') || '-' || lpad(j::text, 2, '0'),"
                    + " 'p-' || lpad(((i + 1 + k) % " + tenants + ")::text, 4, '0') || '-dev-local',"
                    + " 'p-' || lpad(((i + 1 + k) % " + tenants + ")::text, 4, '0') || '-free', 'active',"
                    + " 't' || lpad(((i + 1 + k) % " + tenants + ")::text, 4, '0'), 't' || lpad(i::text, 4, '0'),"
                    + " 'bench' from generate_series(0, " + (tenants - 1) + ") i, generate_series(0, " + (apps - 1)
                    + ") j, generate_series(0, " + (perApp - 1) + ") k");
            c.commit();
            s.execute("analyze");
        }
    }

    private static String adminToken(Path file) throws java.io.IOException {
        String line = Files.readAllLines(file).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .findFirst()
                .orElseThrow();
        return line.substring(line.indexOf(':') + 1);
    }

    /** A replica process and the decisions it reported, in order. */
    private static final class Replica {
        private final String name;
        private final Process process;
        private final BlockingQueue<String[]> lines = new LinkedBlockingQueue<>();
        private final Writer stdin;
        private long base;
        private String state = "none";
        private long stateAt;

        private Replica(String name, Process process) {
            this.name = name;
            this.process = process;
            this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader in =
                        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = in.readLine()) != null) {
                        lines.add(line.split(" "));
                    }
                } catch (java.io.IOException e) {
                    // the replica ended
                }
            });
        }

        static Replica start(int adsPort, String name, String protocol) throws Exception {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-XX:+UseSerialGC"));
            // e.g. -Dbench.replica.jvm=-XX:StartFlightRecording=filename=/tmp/replica-%p.jfr,settings=profile
            String extra = System.getProperty("bench.replica.jvm", "");
            if (!extra.isBlank()) {
                command.addAll(List.of(extra.trim().split("\\s+")));
            }
            command.addAll(List.of(
                    "-cp",
                    System.getProperty("java.class.path"),
                    SubscriptionReplicaProcess.class.getName(),
                    "127.0.0.1",
                    Integer.toString(adsPort),
                    name,
                    PROBE_PUBLISH,
                    PROBE_CREDENTIAL,
                    protocol));
            Process p = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            Replica r = new Replica(name, p);
            String[] first = r.lines.poll(60, TimeUnit.SECONDS);
            // the JVM's own start-up lines (a flight recording's, say) come before the replica's first
            while (first != null && !first[0].equals("BASE") && first[0].startsWith("[")) {
                first = r.lines.poll(60, TimeUnit.SECONDS);
            }
            if (first == null || !first[0].equals("BASE")) {
                throw new IllegalStateException(name + " did not start");
            }
            r.base = Long.parseLong(first[1]);
            return r;
        }

        /** When the replica first decided {@code wanted} at or after {@code since}, or -1 past {@code limit}. */
        long await(String wanted, long since, Duration limit) throws InterruptedException {
            long deadline = System.nanoTime() + limit.toNanos();
            while (!(state.equals(wanted) && stateAt >= since)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return -1;
                }
                String[] line = lines.poll(left, TimeUnit.NANOSECONDS);
                if (line != null && line[0].equals("STATE")) {
                    state = line[1];
                    stateAt = Long.parseLong(line[2]);
                }
            }
            return stateAt;
        }

        long heap() throws Exception {
            stdin.write("heap\n");
            stdin.flush();
            while (true) {
                String[] line = lines.poll(120, TimeUnit.SECONDS);
                if (line == null) {
                    throw new IllegalStateException(name + " did not report its heap");
                }
                if (line[0].equals("HEAP")) {
                    return Long.parseLong(line[1]);
                }
            }
        }

        void stop() {
            process.destroy();
        }
    }

    private static void print(String what, long[] ns) {
        if (ns.length == 0) {
            System.out.printf("%-48s no samples%n", what);
            return;
        }
        System.out.printf(
                "%-48s p50 %8.2f ms  p90 %8.2f ms  p99 %8.2f ms  max %8.2f ms  (n=%d)%n",
                what, pct(ns, 50) / 1e6, pct(ns, 90) / 1e6, pct(ns, 99) / 1e6, pct(ns, 100) / 1e6, ns.length);
    }
}
