package io.meshguard.xds.policy;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyFiles;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.policy.LoadedPolicy;
import io.meshguard.runtime.policy.PolicyWatcher;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProfileCatalog;
import io.meshguard.xds.validate.ProfileReferences;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy files extauthz-server and the DLP server load ({@code authz.yaml}, {@code dlp.yaml} in one directory:
 * {@code up}'s {@code --policies}, the mounted ConfigMaps in Kubernetes), kept loaded by the runtime's
 * {@link PolicyWatcher} with the servers' own parsers, so publishes are checked against the names the servers know.
 *
 * <p>A policy change cannot un-publish a revision. When it removes a profile a served route names, the problem is
 * logged, counted by {@code meshguard_xds_served_route_profiles_missing} and shown in {@code /readyz}'s detail until
 * the policy or the route is fixed (meanwhile the servers deny those requests: docs/route-contract.md).
 */
public final class PolicyProfiles implements ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(PolicyProfiles.class);
    private static final int MAX_SHOWN = 10;

    private final PolicyFileSet files;
    private final PolicyWatcher<AuthzPolicy> authz;
    private final PolicyWatcher<DlpPolicy> dlp;
    private final Supplier<List<GatewayConfig>> served;
    private final AtomicReference<Cached> cached = new AtomicReference<>();
    private List<Problem> lastReported = List.of();

    /** The catalog of one pair of loaded policies, rebuilt only when either changes. */
    private record Cached(LoadedPolicy<AuthzPolicy> authz, LoadedPolicy<DlpPolicy> dlp, ProfileCatalog catalog) {}

    /**
     * @param files the {@code authz.yaml} and {@code dlp.yaml} the servers load
     * @param served the configuration every group serves now
     */
    public PolicyProfiles(PolicyFileSet files, Supplier<List<GatewayConfig>> served, MeterRegistry meters) {
        this.files = files;
        this.served = served;
        this.authz = new PolicyWatcher<>("authz", files.authzFile(), new AuthzPolicyFiles(), meters);
        this.dlp = new PolicyWatcher<>("dlp", files.dlpFile(), new DlpPolicyFiles(), meters);
        authz.addListener(p -> recheck());
        dlp.addListener(p -> recheck());
        Gauge.builder("meshguard_xds_served_route_profiles_missing", this, p -> p.servedProblems()
                        .size())
                .description("Profiles named by served routes that the loaded authz.yaml or dlp.yaml no longer define")
                .register(meters);
    }

    @Override
    public String name() {
        return "xds-policy-profiles";
    }

    @Override
    public void start() {
        authz.start();
        dlp.start();
    }

    /** The authz policy extauthz-server loads from the same file, as last loaded; empty before it first loads. */
    public Optional<AuthzPolicy> authzPolicy() {
        return authz.current().map(LoadedPolicy::value);
    }

    /** The dlp.yaml the DLP server loads from the same file, as last loaded; empty before it first loads. */
    public Optional<DlpPolicy> dlpPolicy() {
        return dlp.current().map(LoadedPolicy::value);
    }

    /** The names both loaded policies define; empty until both files have loaded once. */
    public Optional<ProfileCatalog> catalog() {
        Optional<LoadedPolicy<AuthzPolicy>> a = authz.current();
        Optional<LoadedPolicy<DlpPolicy>> d = dlp.current();
        if (a.isEmpty() || d.isEmpty()) {
            return Optional.empty();
        }
        Cached c = cached.get();
        if (c == null || c.authz() != a.get() || c.dlp() != d.get()) {
            c = new Cached(
                    a.get(),
                    d.get(),
                    ProfileCatalog.of(
                            a.get().value(),
                            files.authzFile().toString(),
                            d.get().value(),
                            files.dlpFile().toString()));
            cached.set(c);
        }
        return Optional.of(c.catalog());
    }

    /** What publishes must pass. */
    public ProfileReferences references() {
        return new ProfileReferences(this::catalog);
    }

    /** Profiles served routes name that the loaded policies lack (empty while the policies are not loaded). */
    public List<Problem> servedProblems() {
        Optional<ProfileCatalog> catalog = catalog();
        if (catalog.isEmpty()) {
            return List.of();
        }
        List<Problem> out = new ArrayList<>();
        for (GatewayConfig config : served.get()) {
            ProfileReferences.missing(config, catalog.get()).stream()
                    .filter(p -> p.severity() == Problem.Severity.ERROR)
                    .forEach(out::add);
        }
        return out;
    }

    /** Re-checks what is served against the policies now loaded; logs when the answer changes. */
    public synchronized void recheck() {
        List<Problem> problems = servedProblems();
        if (problems.equals(lastReported)) {
            return;
        }
        if (problems.isEmpty()) {
            log.info("every profile the served routes name is defined again in {}", files);
        } else {
            log.error(
                    "the policies in {} no longer define {} profile(s) served routes name; their requests are denied "
                            + "until the policy or the route is fixed: {}",
                    files,
                    problems.size(),
                    shown(problems));
        }
        lastReported = problems;
    }

    @Override
    public List<ReadinessCheck> readinessChecks() {
        // named for the controller: beside extauthz and the DLP server (meshguard up, one /readyz) their own
        // watchers of the same files are policy:authz and policy:dlp
        List<ReadinessCheck> checks = new ArrayList<>();
        for (ReadinessCheck c : authz.readinessChecks()) {
            checks.add(ReadinessCheck.of("xds:" + c.name(), c::check));
        }
        for (ReadinessCheck c : dlp.readinessChecks()) {
            checks.add(ReadinessCheck.of("xds:" + c.name(), c::check));
        }
        // Ready either way: this replica cannot un-publish, and serving the last good configuration beats none.
        checks.add(ReadinessCheck.of("xds:route-profiles", () -> {
            if (catalog().isEmpty()) {
                return ReadinessCheck.Result.notReady("policies in " + files + " not loaded: nothing can be published");
            }
            List<Problem> problems = servedProblems();
            return ReadinessCheck.Result.ready(
                    problems.isEmpty()
                            ? "served routes name only profiles defined in " + files
                            : "MISSING PROFILES (requests on these routes are denied): " + shown(problems));
        }));
        return checks;
    }

    private static String shown(List<Problem> problems) {
        return problems.stream().limit(MAX_SHOWN).map(Problem::toString).collect(Collectors.joining("; "))
                + (problems.size() > MAX_SHOWN ? "; and " + (problems.size() - MAX_SHOWN) + " more" : "");
    }

    @Override
    public void close() {
        authz.close();
        dlp.close();
    }
}
