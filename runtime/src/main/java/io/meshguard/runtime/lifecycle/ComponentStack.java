package io.meshguard.runtime.lifecycle;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Starts {@link ServerComponent}s in order and closes them in reverse order, once, whether on a JVM
 * shutdown (SIGTERM, SIGINT) or an explicit {@link #close()}. Reverse order matters: the gRPC host started
 * last drains first while the status listener started first still answers {@code /readyz} with 503.
 *
 * <p>Shutdown progress goes to a {@link PrintStream} (stderr by default), not to the logger: during JVM
 * shutdown Logback may already be stopped.
 */
public final class ComponentStack implements AutoCloseable {
    private final PrintStream console;
    private final List<ServerComponent> started = new ArrayList<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final CountDownLatch closed = new CountDownLatch(1);
    private Thread shutdownHook;
    private boolean closing;

    /** Reports shutdown progress on {@code System.err}. */
    public ComponentStack() {
        this(System.err);
    }

    /** Reports shutdown progress on {@code console}. */
    public ComponentStack(PrintStream console) {
        this.console = console;
    }

    /**
     * Starts {@code component} and remembers it for shutdown.
     *
     * @throws IllegalStateException when the stack is already closing
     * @throws Exception what the component's start threw; it is then not part of the stack
     */
    public void start(ServerComponent component) throws Exception {
        // The lock is not held while the component starts: a start that hangs (a port that accepts and never
        // answers) must not keep a shutdown signal from closing what is already running.
        lock.lock();
        try {
            if (closing) {
                throw new IllegalStateException("component stack is closed; not starting " + component.name());
            }
        } finally {
            lock.unlock();
        }
        component.start();
        lock.lock();
        try {
            if (!closing) {
                started.add(component);
                return;
            }
        } finally {
            lock.unlock();
        }
        // Closed while it started: nobody else will close it.
        component.close();
        throw new IllegalStateException("component stack closed while " + component.name() + " started");
    }

    /**
     * Starts each component in order. If one fails, the ones already started are closed in reverse order and
     * the failure is rethrown, so a half-started server never lingers.
     */
    public void startAll(List<? extends ServerComponent> components) throws Exception {
        for (ServerComponent component : components) {
            try {
                start(component);
            } catch (Exception | Error e) {
                console.println("meshguard: " + component.name() + " failed to start: " + e);
                close();
                throw e;
            }
        }
    }

    /** The started components, in start order. */
    public List<ServerComponent> started() {
        lock.lock();
        try {
            return List.copyOf(started);
        } finally {
            lock.unlock();
        }
    }

    /** The readiness checks of every started component. */
    public List<ReadinessCheck> readinessChecks() {
        return started().stream().flatMap(c -> c.readinessChecks().stream()).toList();
    }

    /**
     * Registers a JVM shutdown hook that closes this stack (SIGTERM from Kubernetes, Ctrl-C locally).
     *
     * @return the hook thread
     */
    public Thread closeOnJvmShutdown() {
        lock.lock();
        try {
            if (shutdownHook == null) {
                shutdownHook = new Thread(this::closeFromHook, "meshguard-shutdown");
                Runtime.getRuntime().addShutdownHook(shutdownHook);
            }
            return shutdownHook;
        } finally {
            lock.unlock();
        }
    }

    /** Blocks until the stack has been closed (by the shutdown hook or another thread). */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /**
     * Closes every started component in reverse start order; a component that fails to close is reported
     * and the others are still closed. Idempotent; a second caller waits until the first has finished.
     */
    @Override
    public void close() {
        List<ServerComponent> toClose;
        lock.lock();
        try {
            if (closing) {
                toClose = null;
            } else {
                closing = true;
                toClose = new ArrayList<>(started).reversed();
            }
        } finally {
            lock.unlock();
        }
        if (toClose == null) {
            awaitQuietly();
            return;
        }
        try {
            for (ServerComponent component : toClose) {
                long begin = System.nanoTime();
                console.println("meshguard: stopping " + component.name());
                try {
                    component.close();
                    console.printf(
                            "meshguard: stopped %s (%d ms)%n",
                            component.name(), (System.nanoTime() - begin) / 1_000_000);
                } catch (RuntimeException | Error e) {
                    console.println("meshguard: " + component.name() + " did not stop cleanly: " + e);
                }
            }
        } finally {
            console.flush();
            closed.countDown();
            removeHookUnlessShuttingDown();
        }
    }

    private void closeFromHook() {
        console.println(
                "meshguard: shutdown signal received, draining " + started().size() + " component(s)");
        close();
    }

    private void awaitQuietly() {
        if (Thread.currentThread() == shutdownHook) {
            return;
        }
        try {
            closed.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void removeHookUnlessShuttingDown() {
        Thread hook;
        lock.lock();
        try {
            hook = shutdownHook;
        } finally {
            lock.unlock();
        }
        if (hook == null || Thread.currentThread() == hook) {
            return;
        }
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // The JVM is already shutting down; the hook will find the stack closed and return at once.
        }
    }
}
