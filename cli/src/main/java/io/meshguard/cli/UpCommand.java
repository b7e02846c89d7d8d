package io.meshguard.cli;

import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.logging.JulBridge;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshguard up}: PostgreSQL, migrations and every server of this build in one process, with a combined
 * status listener. Ctrl-C or SIGTERM closes everything in reverse start order, PostgreSQL last.
 */
@Command(
        name = "up",
        mixinStandardHelpOptions = true,
        description = "Start the whole stack locally on an embedded PostgreSQL; Ctrl-C stops everything.")
final class UpCommand implements Callable<Integer> {
    @Option(names = "--data-dir", defaultValue = ".meshguard", description = "Local state: database, spools, up.json (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--status-port", defaultValue = "9100", description = "Port of the combined /readyz, /healthz, /metrics; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int statusPort;

    @Option(names = "--pg-port", defaultValue = "15432", description = "Port of the embedded PostgreSQL on 127.0.0.1; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int pgPort;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address of the status listener (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--policies", defaultValue = "policies", description = "Policy directory the servers load (default: ${DEFAULT-VALUE}).")
    Path policiesDir;

    @Override
    public Integer call() throws Exception {
        // A person reads up's output: text logs unless asked otherwise. Logback reads this property when the first
        // logger is created, which happens below, so it must be set before anything logs.
        if (System.getenv("MESHGUARD_LOG_FORMAT") == null) {
            System.setProperty("MESHGUARD_LOG_FORMAT", "text");
        }
        JulBridge.install();
        PrintStream console = System.out;
        long begin = System.nanoTime();
        Path dir = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(dir);

        ProcessMetrics metrics = ProcessMetrics.create();
        ComponentStack stack = new ComponentStack();
        stack.closeOnJvmShutdown();

        StatusHttpServer status = new StatusHttpServer("up-status", new HttpServerSettings(bind, statusPort), metrics.registry());
        PostgresComponent postgres = new PostgresComponent(dir.resolve("postgres"), pgPort);
        List<String> endpoints = new ArrayList<>();
        // The status listener starts first so that /readyz answers at once; it must say 503 until all is up.
        AtomicBoolean started = new AtomicBoolean();
        status.addReadinessCheck(ReadinessCheck.of("startup", () -> started.get()
                ? ReadinessCheck.Result.ready("all components started")
                : ReadinessCheck.Result.notReady("starting")));
        try {
            stack.start(new UpStateFile(dir));
            startTracked(stack, status, status);
            startTracked(stack, postgres, status);
            endpoints.add("postgres   " + postgres.server().jdbcUrl() + "  (user " + postgres.server().user() + ", schema "
                    + postgres.migration().currentVersion() + ")");
            StackContext context = new StackContext(metrics, postgres.dataSource(), postgres.settings(), dir,
                    policiesDir.toAbsolutePath().normalize());
            LocalStack local = LocalStack.start(stack, context, component -> status.addReadinessChecks(component.readinessChecks()));
            for (StackPart part : local.parts()) {
                part.endpoints().forEach(line -> endpoints.add(String.format("%-10s %s", part.name(), line)));
            }
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }

        started.set(true);
        String statusUrl = "http://" + bind + ":" + status.port();
        endpoints.add(String.format("%-10s %s/readyz  %s/healthz  %s/metrics", "status", statusUrl, statusUrl, statusUrl));
        new UpState(ProcessHandle.current().pid(), postgres.server().pid(), statusUrl, postgres.server().jdbcUrl(), postgres.server().user(),
                postgres.server().passwordFile().toString(), endpoints).writeTo(dir);

        console.printf("meshguard is up in %d ms (data in %s)%n", (System.nanoTime() - begin) / 1_000_000, dir);
        endpoints.forEach(line -> console.println("  " + line));
        console.println("Press Ctrl-C to stop.");
        console.flush();

        stack.awaitClosed();
        return 0;
    }

    /** Started first and so closed last: removes {@code up.json} once everything else has stopped. */
    private record UpStateFile(Path dataDir) implements ServerComponent {
        @Override
        public String name() {
            return "up.json";
        }

        @Override
        public void start() {}

        @Override
        public void close() {
            try {
                Files.deleteIfExists(dataDir.resolve(UpState.FILE_NAME));
            } catch (IOException e) {
                System.err.println("meshguard: could not remove " + dataDir.resolve(UpState.FILE_NAME) + ": " + e);
            }
        }
    }

    private static void startTracked(ComponentStack stack, ServerComponent component, StatusHttpServer status)
            throws Exception {
        stack.start(component);
        status.addReadinessChecks(component.readinessChecks());
    }
}
