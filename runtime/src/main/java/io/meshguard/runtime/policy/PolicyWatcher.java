package io.meshguard.runtime.policy;

import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a policy loaded from a file or a directory of {@code *.yaml} files and replaces it when the files
 * change, only if the new files are valid: validate, then swap atomically; an invalid change is logged
 * (each error with {@code file:line}), counted, reported by {@code /readyz}'s detail, and the running
 * policy stays.
 *
 * <p>Change detection: the directory (or a file's parent directory) is watched and any event triggers a
 * re-read; the content hash decides whether anything changed. This is what makes Kubernetes ConfigMap
 * mounts work: they swap a {@code ..data} symlink atomically, so events arrive for {@code ..data}, never
 * for {@code authz.yaml} itself. Because watch services can miss events (overflow, some network or
 * overlay file systems), the files are also re-checked every {@code recheckInterval}.
 *
 * <p>Metrics (tagged {@code policy=<name>}): {@code meshguard_policy_reload_total{result=success|invalid|unreadable}}
 * (a given content is counted once, not at every re-check), {@code meshguard_policy_info{version}} = 1 for
 * the version in force (the previous version's series is removed), and
 * {@code meshguard_policy_last_reload_success_timestamp_seconds}.
 *
 * @param <T> the parsed policy
 */
public final class PolicyWatcher<T> implements ServerComponent {
    /** How often files are re-read even without a watch event. */
    public static final Duration DEFAULT_RECHECK_INTERVAL = Duration.ofSeconds(30);
    /** Quiet time after an event before reading, so an editor's multi-step save is read once. */
    static final Duration QUIET_PERIOD = Duration.ofMillis(100);
    /** Errors logged per rejected change; the rest are summarised. */
    static final int MAX_LOGGED_ERRORS = 50;

    private static final Logger log = LoggerFactory.getLogger(PolicyWatcher.class);

    private final String policyName;
    private final Path location;
    private final PolicyParser<T> parser;
    private final Duration recheckInterval;
    private final MeterRegistry registry;
    private final AtomicReference<LoadedPolicy<T>> current = new AtomicReference<>();
    private final List<Consumer<LoadedPolicy<T>>> listeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<PolicyReload>> reloadListeners = new CopyOnWriteArrayList<>();
    /** Whether the load at start is done: what follows are reloads. */
    private boolean started;

    private final ReentrantLock reloadLock = new ReentrantLock();
    private final Counter successes;
    private final Counter invalids;
    private final Counter unreadables;
    private final AtomicLong lastSuccessEpochMillis = new AtomicLong();
    private volatile Optional<String> lastProblem = Optional.of("not loaded yet");
    private String lastRejectedVersion;
    private Gauge infoGauge;
    private WatchService watchService;
    private Thread watchThread;
    private volatile boolean closed;
    /** Opened by {@link #close()}; the re-check waits on it so closing does not wait out an interval. */
    private final CountDownLatch stopped = new CountDownLatch(1);

    /** A watcher re-checking every {@link #DEFAULT_RECHECK_INTERVAL}. */
    public PolicyWatcher(String policyName, Path location, PolicyParser<T> parser, MeterRegistry registry) {
        this(policyName, location, parser, registry, DEFAULT_RECHECK_INTERVAL);
    }

    /**
     * @param policyName short name for metrics, logs and readiness ({@code authz}, {@code dlp})
     * @param location a policy file, or a directory whose {@code *.yaml}/{@code *.yml} files form the policy
     * @param parser validates and compiles the files
     * @param registry where the reload metrics go (a server view)
     * @param recheckInterval how often to re-read without a watch event
     */
    public PolicyWatcher(
            String policyName,
            Path location,
            PolicyParser<T> parser,
            MeterRegistry registry,
            Duration recheckInterval) {
        if (recheckInterval.isNegative() || recheckInterval.isZero()) {
            throw new IllegalArgumentException("recheck interval must be positive");
        }
        this.policyName = policyName;
        this.location = location.toAbsolutePath();
        this.parser = parser;
        this.registry = registry;
        this.recheckInterval = recheckInterval;
        this.successes = reloadCounter("success");
        this.invalids = reloadCounter("invalid");
        this.unreadables = reloadCounter("unreadable");
        Gauge.builder(
                        "meshguard.policy.last.reload.success.timestamp.seconds",
                        lastSuccessEpochMillis,
                        millis -> millis.get() / 1000.0)
                .description("Unix time of the last successful policy load")
                .tag("policy", policyName)
                .register(registry);
    }

    @Override
    public String name() {
        return "policy:" + policyName;
    }

    /** The policy in force, if a valid one was ever loaded. */
    public Optional<LoadedPolicy<T>> current() {
        return Optional.ofNullable(current.get());
    }

    /** Called on the reloading thread after each swap (and for the initial load when added before start). */
    public void addListener(Consumer<LoadedPolicy<T>> listener) {
        listeners.add(listener);
    }

    /**
     * Called on the reloading thread for every reload after the load at start: new files taken, or refused (invalid,
     * each distinct content once; unreadable, each distinct problem once). The admin trail listens here.
     */
    public void addReloadListener(Consumer<PolicyReload> listener) {
        reloadListeners.add(listener);
    }

    /** Why the newest files are not in force ({@code authz.yaml:3: unknown key 'rulez'}), if they are not. */
    public Optional<String> lastProblem() {
        return lastProblem;
    }

    /**
     * Loads the files once (an invalid or missing policy is reported, not thrown: the server starts and stays
     * not ready) and starts watching.
     */
    @Override
    public void start() {
        // Watch before the first read, so a change landing in between is not missed.
        try {
            watchService = location.getFileSystem().newWatchService();
        } catch (IOException e) {
            // E.g. the node's inotify instance limit is reached: degrade to the periodic re-check, don't fail.
            log.warn(
                    "policy {}: file watching unavailable ({}); re-checking {} every {}",
                    policyName,
                    e,
                    location,
                    recheckInterval);
        }
        WatchKey key = watchService == null ? null : register();
        reloadNow();
        Runnable loop = watchService == null ? this::recheckLoop : () -> watchLoop(key);
        watchThread = Thread.ofPlatform()
                .daemon()
                .name("policy-watcher-" + policyName)
                .start(loop);
    }

    /** Ready once a valid policy is in force. */
    @Override
    public List<ReadinessCheck> readinessChecks() {
        return List.of(ReadinessCheck.of(name(), () -> {
            LoadedPolicy<T> loaded = current.get();
            Optional<String> problem = lastProblem;
            if (loaded == null) {
                return ReadinessCheck.Result.notReady(problem.orElse("not loaded yet"));
            }
            String detail =
                    "version " + loaded.version() + " from " + loaded.sources().size() + " file(s)";
            return ReadinessCheck.Result.ready(
                    problem.map(p -> detail + "; newer files rejected: " + p).orElse(detail));
        }));
    }

    /**
     * Reads the files now and swaps the policy in if they changed and are valid. Safe to call from any thread
     * (an admin endpoint, a test); concurrent reloads run one at a time.
     */
    public ReloadOutcome reloadNow() {
        reloadLock.lock();
        try {
            return reload();
        } finally {
            started = true;
            reloadLock.unlock();
        }
    }

    /**
     * Reads the files again even when their content was refused before: for a refusal that depends on something besides
     * the files (an approval that arrived since, {@code policy.require_approval}).
     */
    public ReloadOutcome reloadRefused() {
        reloadLock.lock();
        try {
            lastRejectedVersion = null;
            return reload();
        } finally {
            started = true;
            reloadLock.unlock();
        }
    }

    private void announce(Optional<String> digestAfter, boolean accepted, String detail, LoadedPolicy<T> before) {
        if (!started) {
            return;
        }
        PolicyReload r = new PolicyReload(
                Instant.now(),
                policyName,
                location.toString(),
                Optional.ofNullable(before).map(b -> PolicyReload.digestOf(b.sources())),
                digestAfter,
                accepted,
                detail);
        for (Consumer<PolicyReload> listener : reloadListeners) {
            try {
                listener.accept(r);
            } catch (RuntimeException e) {
                log.error("policy {}: reload listener failed", policyName, e);
            }
        }
    }

    /** Stops watching. The last policy stays readable through {@link #current()}. */
    @Override
    public void close() {
        closed = true;
        stopped.countDown();
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException e) {
                log.debug("closing watch service of {}: {}", policyName, e.toString());
            }
        }
        if (watchThread != null && watchThread != Thread.currentThread()) {
            try {
                watchThread.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private ReloadOutcome reload() {
        List<PolicySource> sources;
        try {
            sources = PolicyFiles.read(location);
        } catch (IOException e) {
            String problem = describe(e);
            boolean newProblem = !lastProblem.equals(Optional.of(problem));
            lastProblem = Optional.of(problem);
            lastRejectedVersion = null;
            if (newProblem) {
                log.warn("policy {}: cannot read {}: {}; keeping {}", policyName, location, problem, running());
                unreadables.increment();
                announce(Optional.empty(), false, "unreadable: " + problem, current.get());
            }
            return ReloadOutcome.UNREADABLE;
        }
        String version = LoadedPolicy.versionOf(sources);
        LoadedPolicy<T> running = current.get();
        if (running != null && running.version().equals(version)) {
            lastProblem = Optional.empty();
            lastRejectedVersion = null;
            return ReloadOutcome.UNCHANGED;
        }
        if (version.equals(lastRejectedVersion)) {
            return ReloadOutcome.INVALID;
        }
        T parsed;
        try {
            parsed = parser.parse(sources);
        } catch (PolicyInvalidException e) {
            reject(version, e.errors());
            announce(Optional.of(PolicyReload.digestOf(sources)), false, summarise(e.errors()), running);
            return ReloadOutcome.INVALID;
        } catch (RuntimeException e) {
            // A parser bug must not stop the watcher nor let unvalidated files through.
            log.error("policy {}: parser failed on version {}", policyName, version, e);
            List<PolicyError> errors =
                    List.of(new PolicyError(location.getFileName().toString(), 0, "parser failed: " + e));
            reject(version, errors);
            announce(Optional.of(PolicyReload.digestOf(sources)), false, summarise(errors), running);
            return ReloadOutcome.INVALID;
        }
        LoadedPolicy<T> loaded = new LoadedPolicy<>(parsed, version, Instant.now(), sources);
        current.set(loaded);
        lastProblem = Optional.empty();
        lastRejectedVersion = null;
        lastSuccessEpochMillis.set(loaded.loadedAt().toEpochMilli());
        publishVersion(version);
        log.atInfo()
                .addKeyValue("policy", policyName)
                .addKeyValue("version", version)
                .log(
                        "policy {} version {} loaded from {} file(s) (was {})",
                        policyName,
                        version,
                        sources.size(),
                        running == null ? "none" : running.version());
        for (Consumer<LoadedPolicy<T>> listener : listeners) {
            try {
                listener.accept(loaded);
            } catch (RuntimeException e) {
                log.error("policy {}: listener failed on version {}", policyName, version, e);
            }
        }
        successes.increment();
        announce(Optional.of(PolicyReload.digestOf(sources)), true, "", running);
        return ReloadOutcome.LOADED;
    }

    private void reject(String version, List<PolicyError> errors) {
        lastRejectedVersion = version;
        lastProblem = Optional.of(summarise(errors));
        // Counted last: whoever watches the counter (tests, alerts) then sees the state that goes with it.
        invalids.increment();
        log.warn(
                "policy {}: version {} rejected with {} error(s); keeping {}",
                policyName,
                version,
                errors.size(),
                running());
        errors.stream().limit(MAX_LOGGED_ERRORS).forEach(error -> log.atWarn()
                .addKeyValue("policy", policyName)
                .addKeyValue("file", error.file())
                .addKeyValue("line", error.line())
                .log("{}", error));
        if (errors.size() > MAX_LOGGED_ERRORS) {
            log.warn("policy {}: {} more error(s) not shown", policyName, errors.size() - MAX_LOGGED_ERRORS);
        }
    }

    private String running() {
        LoadedPolicy<T> loaded = current.get();
        return loaded == null ? "no policy (requests are denied)" : "version " + loaded.version();
    }

    private static String summarise(List<PolicyError> errors) {
        String shown = errors.stream().limit(5).map(PolicyError::toString).collect(Collectors.joining("; "));
        return errors.size() > 5 ? shown + " (and " + (errors.size() - 5) + " more)" : shown;
    }

    private static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException missing) {
            return "not found: " + missing.getFile();
        }
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    private void publishVersion(String version) {
        if (infoGauge != null) {
            registry.remove(infoGauge);
        }
        infoGauge = Gauge.builder("meshguard.policy.info", () -> 1)
                .description("The policy version in force (value is always 1)")
                .tags("policy", policyName, "version", version)
                .register(registry);
    }

    private Counter reloadCounter(String result) {
        return Counter.builder("meshguard.policy.reload")
                .description("Policy reload attempts by result (each distinct content counted once)")
                .tags("policy", policyName, "result", result)
                .register(registry);
    }

    private void watchLoop(WatchKey registered) {
        WatchKey key = registered;
        while (!closed) {
            try {
                WatchKey previous = key;
                key = ensureWatching(key);
                if (key != previous && key != null) {
                    // A new directory is watched from now on; re-read what changed before the watch began.
                    reloadNow();
                }
                WatchKey signalled = watchService.poll(recheckInterval.toMillis(), TimeUnit.MILLISECONDS);
                if (signalled != null) {
                    settle(signalled);
                }
                reloadNow();
            } catch (ClosedWatchServiceException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                log.error("policy {}: watcher error; retrying in {}", policyName, recheckInterval, e);
                sleep(recheckInterval);
            }
        }
    }

    /** Without a watch service: re-read every {@code recheckInterval}. */
    private void recheckLoop() {
        while (!closed) {
            sleep(recheckInterval);
            if (!closed) {
                reloadNow();
            }
        }
    }

    /** Consumes this event batch and any that follow within the quiet period. */
    private void settle(WatchKey first) throws InterruptedException {
        WatchKey key = first;
        while (key != null) {
            key.pollEvents();
            key.reset();
            key = watchService.poll(QUIET_PERIOD.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** The directory to watch: the location itself, or the directory a file (or a missing location) is in. */
    private Path watchedDirectory() {
        return Files.isDirectory(location) ? location : location.getParent();
    }

    /**
     * Keeps the registration pointing at {@link #watchedDirectory()}: it changes when a missing location
     * appears as a directory, and a key dies when its directory is deleted.
     */
    private WatchKey ensureWatching(WatchKey key) {
        if (key != null && key.isValid() && key.watchable().equals(watchedDirectory())) {
            return key;
        }
        if (key != null) {
            key.cancel();
        }
        return register();
    }

    /** Registers {@link #watchedDirectory()}; null while it does not exist (the periodic re-check covers that). */
    private WatchKey register() {
        Path dir = watchedDirectory();
        if (dir == null || !Files.isDirectory(dir)) {
            return null;
        }
        try {
            return dir.register(
                    watchService,
                    StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException e) {
            log.warn("policy {}: cannot watch {} ({}); re-checking every {}", policyName, dir, e, recheckInterval);
            return null;
        }
    }

    private void sleep(Duration duration) {
        try {
            stopped.await(duration.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        }
    }
}
