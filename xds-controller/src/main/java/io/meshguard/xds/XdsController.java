package io.meshguard.xds;

import io.meshguard.access.AdminGate;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.tracing.Tracing;
import io.meshguard.xds.admin.AdminApi;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.policy.PolicyFileSet;
import io.meshguard.xds.policy.PolicyProfiles;
import io.meshguard.xds.product.ProductPublisher;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.server.PgNodeStatusWriter;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.server.RolloutSpans;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.store.RevisionListener;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.ProfileReferences;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The xDS controller as one {@link ServerComponent}: ADS on {@code xds.ads.port}, revisions from PostgreSQL
 * (LISTEN/NOTIFY and a periodic reconcile), node status written back. Its admin REST API is mounted on the server's
 * status HTTP listener with {@link #mountAdminApi}.
 *
 * <pre>{@code
 * XdsController xds = XdsController.create(settings, dataSource, meters, audit);
 * xds.mountAdminApi(statusHttp);   // before statusHttp.start()
 * xds.start();                      // then statusHttp.start()
 * }</pre>
 */
public final class XdsController implements ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(XdsController.class);
    /** How long a publish span waits for the fleet's ACKs or NACKs before it ends as {@code timeout}. */
    static final java.time.Duration ROLLOUT_SPAN_TIMEOUT = java.time.Duration.ofSeconds(60);

    private final XdsSettings settings;
    private final XdsCore core;
    private final PgGatewayStore draft;
    private final PgRevisionStore revisions;
    private final PgNodeStatusWriter nodeStatus;
    private final RevisionListener listener;
    private final io.meshguard.xds.approval.FourEyesStore fourEyes;
    private final io.meshguard.xds.approval.FourEyes approvals;
    /** Four eyes on the authz policy files, with the replay report on each request. */
    private final io.meshguard.xds.approval.PolicyChanges policyChanges;
    /** Product publishes as revisions of their gateway groups; every draft publish compiles them in. */
    private final ProductPublisher products;

    /** Two people for held MCP tool calls; the sweep closes those past their expiry with deny rows. */
    private final io.meshguard.xds.approval.ToolCallApprovals toolCalls;

    private final io.meshguard.xds.approval.ToolCallExpirySweep toolCallSweep;
    private final io.meshguard.xds.subscription.CatalogSnapshotFeed subscriptionFeed;
    private final BearerTokens tokens;
    private final ConfigChangeAudit audit;
    /** The audit log and the admin trail, read through {@link io.meshguard.xds.admin.AuditAdminApi}. */
    private final DataSource dataSource;
    /** The admin plane's trail verifier: set by the mount that chooses it, before the listener starts. */
    private volatile io.meshguard.audit.trail.AdminTrailVerifier trailVerifier;
    /** The policy files route profiles are checked against; empty: not checked (readiness says so). */
    private final Optional<PolicyProfiles> profiles;

    private volatile boolean started;
    /** What is mounted beside the controller and ends first when it closes (the console's live streams). */
    private final List<Runnable> beforeClose = new java.util.concurrent.CopyOnWriteArrayList<>();

    private XdsController(
            XdsSettings settings,
            DataSource dataSource,
            MeterRegistry meters,
            ConfigChangeAudit audit,
            Optional<PolicyFileSet> policies,
            Tracing tracing) {
        audit = ConfigChangeAudit.alsoTrailed(audit, new io.meshguard.audit.trail.AdminTrail(dataSource));
        this.settings = settings;
        this.dataSource = dataSource;
        this.trailVerifier = io.meshguard.xds.store.RevisionSeal.trailVerifier(dataSource);
        this.draft = new PgGatewayStore(dataSource);
        this.fourEyes = new io.meshguard.xds.approval.FourEyesStore(dataSource);
        this.revisions = new PgRevisionStore(dataSource);
        this.nodeStatus = new PgNodeStatusWriter(dataSource, settings.controllerName());
        this.profiles = policies.map(files -> new PolicyProfiles(files, this::servedConfigs, meters));
        this.core = new XdsCore(
                new InetSocketAddress(settings.adsBind(), settings.adsPort()),
                settings.filterTargets(),
                revisions,
                settings.defaultGroup(),
                nodeStatus,
                meters,
                Clock.systemUTC(),
                new ConfigValidator(
                        profiles.map(PolicyProfiles::references).orElse(ProfileReferences.NONE),
                        // keyed off each group's stored template kind: a group of kind envoy-gateway is refused
                        // (MG-GROUP-006) unless its render passes the bundled CRDs
                        new io.meshguard.xds.envoygateway.EnvoyGatewayGroups(
                                        io.meshguard.envoygateway.render.EnvoyGatewayTemplate.defaults()
                                                .withXffNumTrustedHops(
                                                        settings.filterTargets().xffNumTrustedHops()))
                                // an upstream the gateway's NetworkPolicy cannot allow (MG-UPSTREAM-019)
                                .and(settings.egress())),
                new RolloutSpans(tracing, ROLLOUT_SPAN_TIMEOUT, Clock.systemUTC()),
                settings.adsPeers(),
                settings.vhdsCluster().map(XdsCore.Vhds::through));
        this.listener = new RevisionListener(
                dataSource,
                revisions,
                () -> core.publisher().applyLatest(),
                settings.notifyDebounce(),
                settings.reconcileInterval());
        this.subscriptionFeed = new io.meshguard.xds.subscription.CatalogSnapshotFeed(
                dataSource,
                new io.meshguard.catalog.CatalogStore(dataSource),
                core.subscriptionState(),
                settings.reconcileInterval());
        this.tokens = new BearerTokens(settings.adminTokenFile());
        this.audit = audit;
        io.meshguard.xds.approval.RecordedDecisions recorded =
                new io.meshguard.xds.approval.RecordedDecisions(new io.meshguard.audit.query.AuditReader(dataSource));
        // a publish request's report decides with the authz policy extauthz loads (the same files); without them,
        // decisions whose route contract changes are reported as not replayable
        Optional<PolicyProfiles> loaded = profiles;
        this.approvals = new io.meshguard.xds.approval.FourEyes(
                fourEyes,
                revisions,
                core.publisher(),
                new io.meshguard.xds.approval.GatewayReplay(
                        recorded, revisions, () -> loaded.flatMap(PolicyProfiles::authzPolicy), Clock.systemUTC()),
                Clock.systemUTC(),
                io.meshguard.xds.approval.PolicyChanges.DEFAULT_WINDOW);
        io.meshguard.xds.approval.PolicyRequestStore policyRequests =
                new io.meshguard.xds.approval.PolicyRequestStore(dataSource);
        // a dlp request's findings are held against the newest approved dlp.yaml, else the one the DLP server loads
        java.util.function.Supplier<Optional<io.meshguard.dlp.policy.DlpPolicy>> dlpInForce = () -> policyRequests
                .latestApproved(io.meshguard.xds.approval.PolicyChanges.DLP)
                .flatMap(a -> parsedDlp(a.files()))
                .or(() -> loaded.flatMap(PolicyProfiles::dlpPolicy));
        this.policyChanges = new io.meshguard.xds.approval.PolicyChanges(
                policyRequests,
                List.of(
                        io.meshguard.xds.approval.PolicyChanges.authz(
                                new io.meshguard.xds.approval.PolicyReplay(recorded, Clock.systemUTC())),
                        io.meshguard.xds.approval.PolicyChanges.dlp(new io.meshguard.xds.approval.DlpPolicyReplay(
                                new io.meshguard.audit.query.AuditReader(dataSource), dlpInForce, Clock.systemUTC()))),
                audit,
                Clock.systemUTC(),
                io.meshguard.xds.approval.PolicyChanges.DEFAULT_WINDOW);
        this.products = new ProductPublisher(
                draft, new io.meshguard.catalog.CatalogStore(dataSource), core.publisher(), approvals, audit);
        this.toolCalls = new io.meshguard.xds.approval.ToolCallApprovals(dataSource, audit, Clock.systemUTC());
        this.toolCallSweep = new io.meshguard.xds.approval.ToolCallExpirySweep(
                toolCalls, io.meshguard.xds.approval.ToolCallExpirySweep.PERIOD, Clock.systemUTC(), meters);
    }

    /**
     * The controller over a migrated database. Nothing listens until {@link #start()}.
     *
     * @param meters where {@code meshguard_xds_*} metrics go (the server's view of the process registry)
     * @param audit receives a {@code config_change} event for every admin change
     */
    public static XdsController create(
            XdsSettings settings, DataSource dataSource, MeterRegistry meters, ConfigChangeAudit audit) {
        return new XdsController(settings, dataSource, meters, audit, Optional.empty(), Tracing.disabled());
    }

    /**
     * As {@link #create(XdsSettings, DataSource, MeterRegistry, ConfigChangeAudit)}, checking every publish against
     * the {@code authz.yaml} and {@code dlp.yaml} the servers load: a route naming a profile they lack is refused.
     */
    public static XdsController create(
            XdsSettings settings,
            DataSource dataSource,
            MeterRegistry meters,
            ConfigChangeAudit audit,
            Optional<PolicyFileSet> policies) {
        return new XdsController(settings, dataSource, meters, audit, policies, Tracing.disabled());
    }

    /**
     * With tracing: a {@code meshguard.xds.publish} span per served revision until the fleet ACKs or NACKs it. The
     * caller starts and closes (flushes) the tracing around the controller.
     */
    public static XdsController create(
            XdsSettings settings,
            DataSource dataSource,
            MeterRegistry meters,
            ConfigChangeAudit audit,
            Optional<PolicyFileSet> policies,
            Tracing tracing) {
        return new XdsController(settings, dataSource, meters, audit, policies, tracing);
    }

    /** Adds the admin REST API and {@code /openapi.json} to the status HTTP listener; call before it starts. */
    public void mountAdminApi(StatusHttpServer http) {
        mountAdminApi(http, AdminGate.local(tokens, "xds.admin.token_file"));
    }

    /** As {@link #mountAdminApi(StatusHttpServer)}, with the admin plane's gate (OIDC, role bindings, break-glass). */
    public void mountAdminApi(StatusHttpServer http, AdminGate gate) {
        mountAdminApi(http, gate, io.meshguard.xds.admin.AdminPortDocument.controller());
    }

    /**
     * As {@link #mountAdminApi(StatusHttpServer, AdminGate)}, answering {@code /openapi.json} with {@code openApi}: the
     * port's one document, which lists what else the caller mounts there (io.meshguard.xds.admin.AdminPortDocument).
     */
    public void mountAdminApi(StatusHttpServer http, AdminGate gate, byte[] openApi) {
        mountAdminApi(http, gate, openApi, io.meshguard.xds.store.RevisionSeal.trailVerifier(dataSource));
    }

    /**
     * As {@link #mountAdminApi(StatusHttpServer, AdminGate, byte[])}, verifying the admin trail with
     * {@code trailVerifier} (the admin plane's: against the controller's own signed checkpoints); the console mounted
     * beside it verifies with the same ({@link AdminServices#trailVerifier()}).
     */
    public void mountAdminApi(
            StatusHttpServer http,
            AdminGate gate,
            byte[] openApi,
            io.meshguard.audit.trail.AdminTrailVerifier trailVerifier) {
        this.trailVerifier = trailVerifier;
        AdminApi api = new AdminApi(
                draft, revisions, core.publisher(), this::fleet, gate, audit, approvals, products, openApi);
        for (String prefix : AdminApi.PREFIXES) {
            http.addHandler(prefix, api);
        }
        http.addHandler(
                io.meshguard.xds.admin.AuditAdminApi.PREFIX,
                new io.meshguard.xds.admin.AuditAdminApi(dataSource, trailVerifier, gate, Clock.systemUTC()));
        io.meshguard.xds.admin.PolicyRequestApi requests =
                new io.meshguard.xds.admin.PolicyRequestApi(policyChanges, toolCalls, gate);
        http.addHandler(io.meshguard.xds.admin.PolicyRequestApi.PREFIX, requests);
        http.addHandler(io.meshguard.xds.admin.PolicyRequestApi.TOOL_APPROVALS, requests);
    }

    /**
     * The stores and services the admin API works over, for what else is mounted beside it on the admin port (the
     * console module's {@code ConsoleMount}).
     */
    public AdminServices adminServices() {
        return new AdminServices(
                draft,
                revisions,
                core.publisher(),
                approvals,
                products,
                audit,
                dataSource,
                policyChanges,
                toolCalls,
                trailVerifier);
    }

    /** Runs {@code action} first when the controller closes: what was mounted beside it ends its streams. */
    public void beforeClose(Runnable action) {
        beforeClose.add(action);
    }

    private static Optional<io.meshguard.dlp.policy.DlpPolicy> parsedDlp(io.meshguard.xds.approval.PolicyBundle files) {
        try {
            return Optional.of(new io.meshguard.dlp.policy.DlpPolicyFiles().parse(files.files()));
        } catch (io.meshguard.runtime.policy.PolicyInvalidException e) {
            return Optional.empty(); // approved files were validated when requested; a newer engine may refuse them
        }
    }

    /** What {@link #adminServices()} hands out: the controller's own instances, not copies. */
    public record AdminServices(
            PgGatewayStore draft,
            PgRevisionStore revisions,
            Publisher publisher,
            io.meshguard.xds.approval.FourEyes approvals,
            ProductPublisher products,
            ConfigChangeAudit audit,
            DataSource dataSource,
            io.meshguard.xds.approval.PolicyChanges policyChanges,
            io.meshguard.xds.approval.ToolCallApprovals toolCalls,
            io.meshguard.audit.trail.AdminTrailVerifier trailVerifier) {}

    @Override
    public String name() {
        return "xds-controller";
    }

    @Override
    public void start() throws IOException {
        // the policies first: the newest stored revisions are served at start and checked against them
        profiles.ifPresent(PolicyProfiles::start);
        core.start();
        profiles.ifPresent(PolicyProfiles::recheck);
        listener.start();
        subscriptionFeed.start();
        toolCallSweep.start();
        started = true;
        log.info(
                "xDS controller {} serving ADS on {}:{}; {}",
                settings.controllerName(),
                settings.adsBind(),
                core.adsPort(),
                settings.adsPeers().describe());
    }

    @Override
    public List<ReadinessCheck> readinessChecks() {
        List<ReadinessCheck> checks = new ArrayList<>();
        checks.add(ReadinessCheck.of(
                "xds:ads",
                () -> started
                        ? ReadinessCheck.Result.ready("ADS on port " + core.adsPort() + ", groups served: "
                                + core.snapshots().groups() + "; "
                                + settings.adsPeers().describe())
                        : ReadinessCheck.Result.notReady("ADS not started")));
        // a core that stopped delivering (a revision not served, a deadlock) is not ready, whatever ADS says
        checks.add(core.watchdog().readinessCheck());
        // a group whose newest revision cannot be read or built here is named, the replica stays ready
        checks.add(core.publisher().readinessCheck());
        checks.addAll(profiles.map(PolicyProfiles::readinessChecks)
                .orElse(List.of(ReadinessCheck.of(
                        "xds:route-profiles",
                        () -> ReadinessCheck.Result.ready("not checked: no policy directory "
                                + "configured (" + XdsSettings.AUTHZ_POLICY_FILE.name() + ", "
                                + XdsSettings.DLP_POLICY_FILE.name()
                                + ")")))));
        return checks;
    }

    private List<GatewayConfig> servedConfigs() {
        return core.publisher().servedConfigs();
    }

    /** The policy files publishes are checked against, when configured. */
    public Optional<PolicyProfiles> profiles() {
        return profiles;
    }

    /**
     * Publishes the sample configuration (an LLM chat API with an SSE route, a payments API with v1 deprecated)
     * when the database holds no gateway configuration yet. {@code meshguard up} calls it after {@link #start()}.
     */
    public boolean publishSampleIfEmpty() {
        GatewayConfig current = draft.load();
        if (!current.groups().isEmpty() || !revisions.latestPerGroup().isEmpty()) {
            return false;
        }
        GatewayConfig sample = sampleConfig();
        draft.replace(sample);
        Publisher.Result result = core.publisher().publish(sample, "meshguard-up", "sample configuration");
        if (!result.published()) {
            log.error("the sample gateway configuration was refused: {}", result.problems());
        }
        audit.record(new ConfigChangeAudit.ConfigChange(
                "meshguard-up", "publish", "sample", "published: " + result.published(), "startup"));
        return result.published();
    }

    /** The sample gateway configuration shipped in the jar. */
    public static GatewayConfig sampleConfig() {
        try (InputStream in = XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            return GatewayYaml.read("sample-gateway.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Nodes of every replica (from node_status) overlaid with this replica's live view. */
    public List<NodeStatus> fleet() {
        Map<NodeStatus.Key, NodeStatus> all = new TreeMap<>();
        try {
            nodeStatus.all().forEach(n -> all.put(n.key(), n));
        } catch (RuntimeException e) {
            log.warn("node_status unreadable, showing this replica's nodes only: {}", e.getMessage());
        }
        core.fleet().nodes().forEach(n -> all.put(n.key(), n));
        return List.copyOf(all.values());
    }

    public int adsPort() {
        return core.adsPort();
    }

    /** What the catalogue calls to serve a product publish (catalog {@code CatalogApi}). */
    public io.meshguard.catalog.GatewayServing productServing() {
        return products;
    }

    /** What the catalogue calls for a plan-change request's report: the audit's decisions through the plan's limits. */
    public io.meshguard.catalog.PlanChangeReplay planChangeReplay() {
        return new io.meshguard.xds.approval.PlanChangeImpact(
                new io.meshguard.xds.approval.RecordedDecisions(new io.meshguard.audit.query.AuditReader(dataSource)),
                Clock.systemUTC());
    }

    public Publisher publisher() {
        return core.publisher();
    }

    public XdsCore core() {
        return core;
    }

    public PgGatewayStore draft() {
        return draft;
    }

    public PgRevisionStore revisions() {
        return revisions;
    }

    public Optional<Long> servedRevision(String group) {
        return core.publisher().servedRevision(group);
    }

    @Override
    public void close() {
        started = false;
        beforeClose.forEach(Runnable::run);
        listener.close();
        subscriptionFeed.close();
        toolCallSweep.close();
        profiles.ifPresent(PolicyProfiles::close);
        try {
            core.stop(settings.drainTimeout().toSeconds());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        nodeStatus.close();
    }
}
