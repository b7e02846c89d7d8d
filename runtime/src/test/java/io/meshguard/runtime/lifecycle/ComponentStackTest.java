package io.meshguard.runtime.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("integration")
class ComponentStackTest {
    private final List<String> events = new CopyOnWriteArrayList<>();
    private final ByteArrayOutputStream consoleBytes = new ByteArrayOutputStream();
    private final PrintStream console = new PrintStream(consoleBytes, true, StandardCharsets.UTF_8);

    private class Recording implements ServerComponent {
        private final String name;
        private final boolean failStart;
        private final boolean failClose;

        Recording(String name, boolean failStart, boolean failClose) {
            this.name = name;
            this.failStart = failStart;
            this.failClose = failClose;
        }

        Recording(String name) {
            this(name, false, false);
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void start() {
            if (failStart) {
                throw new IllegalStateException(name + " cannot bind");
            }
            events.add("start " + name);
        }

        @Override
        public List<ReadinessCheck> readinessChecks() {
            return List.of(ReadinessCheck.of(name, () -> ReadinessCheck.Result.ready("ok")));
        }

        @Override
        public void close() {
            events.add("close " + name);
            if (failClose) {
                throw new IllegalStateException(name + " close failed");
            }
        }
    }

    @Test
    void close_whileAStartHangs_closesTheStartedOnesAtOnce_andTheLateOneWhenItReturns() throws Exception {
        ComponentStack stack = new ComponentStack(console);
        stack.start(new Recording("db"));
        java.util.concurrent.CountDownLatch inStart = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        ServerComponent hanging = new Recording("hanging") {
            @Override
            public void start() {
                inStart.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        java.util.concurrent.CompletableFuture<Void> starting = java.util.concurrent.CompletableFuture.runAsync(() -> {
            try {
                stack.start(hanging);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        assertThat(inStart.await(10, TimeUnit.SECONDS)).isTrue();

        stack.close(); // a SIGTERM's hook: must not wait for the hanging start

        assertThat(events).containsExactly("start db", "close db");
        release.countDown();
        assertThatThrownBy(starting::join)
                .hasRootCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed while hanging started");
        assertThat(events).containsExactly("start db", "close db", "close hanging");
    }

    @Test
    void close_stopsComponentsInReverseStartOrder() throws Exception {
        ComponentStack stack = new ComponentStack(console);
        stack.startAll(List.of(new Recording("http"), new Recording("policy"), new Recording("grpc")));

        stack.close();

        assertThat(events)
                .containsExactly(
                        "start http", "start policy", "start grpc", "close grpc", "close policy", "close http");
        assertThat(consoleBytes.toString(StandardCharsets.UTF_8))
                .contains("meshguard: stopping grpc", "meshguard: stopped grpc (", "meshguard: stopped http (");
    }

    @Test
    void startAll_failure_closesStartedOnesAndRethrows() {
        ComponentStack stack = new ComponentStack(console);

        assertThatThrownBy(() -> stack.startAll(List.of(
                        new Recording("http"),
                        new Recording("policy"),
                        new Recording("grpc", true, false),
                        new Recording("never"))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("grpc cannot bind");

        assertThat(events).containsExactly("start http", "start policy", "close policy", "close http");
        assertThat(consoleBytes.toString(StandardCharsets.UTF_8)).contains("grpc failed to start");
    }

    @Test
    void close_componentThatFails_doesNotStopTheOthers() throws Exception {
        ComponentStack stack = new ComponentStack(console);
        stack.startAll(List.of(new Recording("http"), new Recording("grpc", false, true)));

        stack.close();

        assertThat(events).endsWith("close grpc", "close http");
        assertThat(consoleBytes.toString(StandardCharsets.UTF_8)).contains("grpc did not stop cleanly");
    }

    @Test
    void close_twice_closesOnce() throws Exception {
        ComponentStack stack = new ComponentStack(console);
        stack.start(new Recording("only"));

        stack.close();
        stack.close();
        stack.awaitClosed();

        assertThat(events).containsExactly("start only", "close only");
        assertThatThrownBy(() -> stack.start(new Recording("late"))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void close_empty_returns() {
        ComponentStack stack = new ComponentStack(console);

        stack.close();
        stack.close();

        assertThat(events).isEmpty();
    }

    @Test
    void readinessChecks_collectEveryStartedComponent() throws Exception {
        ComponentStack stack = new ComponentStack(console);
        stack.startAll(List.of(new Recording("a"), new Recording("b")));

        assertThat(stack.readinessChecks()).extracting(ReadinessCheck::name).containsExactly("a", "b");
        assertThat(stack.started()).extracting(ServerComponent::name).containsExactly("a", "b");
        stack.close();
    }

    @Test
    void sigterm_drainsComponentsInReverseOrderAndReportsOnStderr(@TempDir Path dir) throws Exception {
        Path stderrFile = dir.resolve("stderr.txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(
                        java,
                        "-Xmx128m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        "-DMESHGUARD_LOG_LEVEL=WARN",
                        ShutdownSignalDemo.class.getName())
                .redirectError(stderrFile.toFile())
                .start();
        try {
            BufferedReader stdout =
                    new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line;
            do {
                line = stdout.readLine();
            } while (line != null && !line.startsWith("ready "));
            assertThat(line).as("demo process printed ready").isNotNull();

            process.destroy(); // SIGTERM

            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String stderr = Files.readString(stderrFile);
            assertThat(stderr)
                    .containsSubsequence(
                            "meshguard: shutdown signal received, draining 2 component(s)",
                            "meshguard: stopping demo-grpc",
                            "meshguard: stopped demo-grpc",
                            "meshguard: stopping demo-http",
                            "meshguard: stopped demo-http");
            assertThat(process.exitValue()).isEqualTo(143);
        } finally {
            process.destroyForcibly();
        }
    }
}
