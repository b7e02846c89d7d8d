package io.meshguard.extauthz.server;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.access.AdminGate;
import io.meshguard.access.LoggedAdminEvents;
import io.meshguard.audit.approval.ApprovedPolicies;
import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.decision.CheckSize;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.catalog.apikey.ApiKeyNotices;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalog.apikey.KnownApiKeyIds;
import io.meshguard.catalogmodel.apikey.ApiKeyIds;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import io.meshguard.extauthz.audit.DecisionSink;
import io.meshguard.extauthz.quota.LiveCounters;
import io.meshguard.extauthz.quota.QuotaAdminApi;
import io.meshguard.extauthz.quota.QuotaAudit;
import io.meshguard.extauthz.quota.QuotaCounter;
import io.meshguard.extauthz.quota.QuotaOperations;
import io.meshguard.extauthz.quota.QuotaStore;
import io.meshguard.extauthz.ratelimit.RedisRateLimiter;
import io.meshguard.extauthz.ratelimit.StoreBreaker;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.subscription.SubscriptionReadiness;
import io.meshguard.extauthz.subscription.SubscriptionStateClient;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.grpc.GrpcServerHost;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.IdpTrust;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.policy.PolicyWatcher;
import io.meshguard.runtime.tracing.Tracing;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ext_authz server as a runtime {@link ServerComponent}: gRPC Check (+ health, reflection), the policy watcher
 * and the API-key usage flusher. Its readiness checks ({@code policy:authz}, {@code jwks}) go to whichever status
 * listener runs it: its own in {@code meshguard extauthz}, the shared one in {@code meshguard up}.
 */
public final class ExtAuthzServer implements ServerComponent {
    private static final Logger LOG = LoggerFactory.getLogger(ExtAuthzServer.class);
    public static final String SERVICE = "envoy.service.auth.v3.Authorization";
    /**
     * How often the stored keys' ids are read whole besides each (re)connect of the notices' listener. A listening
     * session loses no notice (PostgreSQL fails the inserting commit when its notification queue is full), so this is
     * a net for the unexpected, kept long: each read moves every id, across regions for a zone's replicas.
     */
    static final Duration KEY_IDS_READ_WHOLE = Duration.ofMinutes(10);

    private final ExtAuthzConfig config;
    private final AuthzPipeline pipeline;
    private final PolicyWatcher<AuthzPolicy> watcher;
    /** Present with {@code policy.require_approval}: the parser that takes only approved files. */
    private final Optional<ApprovedPolicies> approvedOnly;

    private final Optional<ApiKeyAuthenticator> apiKeys;
    /** The ids of the stored keys, followed on this replica (with a database only). */
    private final Optional<KnownApiKeyIds> knownKeyIds;
    /** Revocations and creations pushed from the key database to this replica (with a database only). */
    private final Optional<ApiKeyNotices> keyNotices;

    private final AuthorizationService service;
    private final GrpcServerHost grpc;
    private final ScheduledExecutorService background;
    /** The shared store, when {@code redis.url} is set: opened at start, closed at stop. */
    private final Optional<RedisConnection> redis;

    private final Optional<RedisRateLimiter> globalLimits;
    private final QuotaCounter quotas;
    private final Optional<QuotaStore> quotaStore;
    private final QuotaAudit quotaAudit;
    private final Optional<DataSource> dataSource;
    private final Optional<io.meshguard.audit.AuditSink> auditSink;
    private final Clock clock;
    /** Follows the controller's subscription state, when {@code subscriptions.controller} is set. */
    private final Optional<SubscriptionStateClient> subscriptionState;

    private final Optional<ManagedChannel> controllerChannel;
    private boolean closed;

    /**
     * @param registry where the server's meters go ({@code ProcessMetrics.forServer("extauthz")})
     * @param dataSource PostgreSQL with the {@code api_keys} table; empty = API-key routes deny with 503
     * @param audit receives every decision; must not block
     */
    public ExtAuthzServer(
            ExtAuthzConfig config,
            MeterRegistry registry,
            Optional<DataSource> dataSource,
            DecisionSink audit,
            Clock clock) {
        this(config, registry, dataSource, audit, clock, Tracing.disabled());
    }

    /** @param tracing a SERVER span per Check when on; the caller starts and closes (flushes) it around the server */
    public ExtAuthzServer(
            ExtAuthzConfig config,
            MeterRegistry registry,
            Optional<DataSource> dataSource,
            DecisionSink audit,
            Clock clock,
            Tracing tracing) {
        this(config, registry, audit, clock, dataSource.map(JdbcApiKeyStore::new), dataSource, tracing);
    }

    /** With any API key store (the benchmark and offline tools use an in-memory one). */
    public static ExtAuthzServer withApiKeyStore(
            ExtAuthzConfig config,
            MeterRegistry registry,
            Optional<ApiKeyStore> store,
            DecisionSink audit,
            Clock clock) {
        return new ExtAuthzServer(config, registry, audit, clock, store, Optional.empty(), Tracing.disabled());
    }

    /** With any API key store and tracing (the benchmark's tracing scenario). */
    public static ExtAuthzServer withApiKeyStore(
            ExtAuthzConfig config,
            MeterRegistry registry,
            Optional<ApiKeyStore> store,
            DecisionSink audit,
            Clock clock,
            Tracing tracing) {
        return new ExtAuthzServer(config, registry, audit, clock, store, Optional.empty(), tracing);
    }

    private ExtAuthzServer(
            ExtAuthzConfig config,
            MeterRegistry registry,
            DecisionSink audit,
            Clock clock,
            Optional<? extends ApiKeyStore> store,
            Optional<DataSource> dataSource,
            Tracing tracing) {
        this.config = config;
        this.dataSource = dataSource;
        this.auditSink = audit.auditLog();
        this.clock = clock;
        this.redis =
                config.redis().enabled() ? Optional.of(RedisConnection.unconnected(config.redis())) : Optional.empty();
        this.quotaStore = dataSource.map(QuotaStore::new);
        QuotaAudit quotaLog = audit.auditLog().map(QuotaAudit::to).orElseGet(QuotaAudit::logOnly);
        // operators' quota changes are rows of the admin trail too, in the quota database
        this.quotaAudit = dataSource
                .<QuotaAudit>map(ds -> new io.meshguard.extauthz.quota.TrailedQuotaAudit(
                        quotaLog, new io.meshguard.audit.trail.AdminTrail(ds)))
                .orElse(quotaLog);
        this.globalLimits =
                redis.map(r -> new RedisRateLimiter(r, config.rateLimit(), registry, System::nanoTime, replicaId()));
        this.quotas = new QuotaCounter(
                quotaStore,
                () -> redis,
                new LiveCounters(config.redis().keyPrefix(), config.redis().commandTimeout()),
                quotaAudit,
                clock,
                System::nanoTime,
                config.quota().counterSettings(),
                registry,
                // the rate limiter's heartbeat counts the replicas (assumed_replicas until it first answers)
                () -> globalLimits.map(RedisRateLimiter::replicas).orElse(1));
        this.knownKeyIds = dataSource.flatMap(ds -> store.map(s -> new KnownApiKeyIds(ds)));
        this.apiKeys = store.map(s -> new ApiKeyAuthenticator(
                s,
                clock,
                config.apiKeyCacheTtl(),
                knownKeyIds.<ApiKeyIds>map(k -> k).orElse(ApiKeyIds.UNKNOWN),
                config.apiKeyUnlistedReadsPerSecond(),
                config.apiKeyWrongSecrets(),
                System::nanoTime));
        apiKeys.ifPresent(a -> Map.<String, ToDoubleFunction<ApiKeyAuthenticator>>of(
                        "read", ApiKeyAuthenticator::unlistedRead, "refused", ApiKeyAuthenticator::unlistedRefused)
                .forEach((outcome, count) -> FunctionCounter.builder(
                                "meshguard_authz_apikey_unlisted_ids_total", a, count)
                        .description("Presented API key ids this replica did not know to exist, by outcome: read"
                                + " (from PostgreSQL, within apikey.unlisted_reads_per_second) or refused (unread)")
                        .tag("outcome", outcome)
                        .register(registry)));
        apiKeys.ifPresent(a -> Map.<String, ToDoubleFunction<ApiKeyAuthenticator>>of(
                        "counted",
                        ApiKeyAuthenticator::wrongSecretsCounted,
                        "refused",
                        ApiKeyAuthenticator::wrongSecretsRefused)
                .forEach((outcome, count) -> FunctionCounter.builder(
                                "meshguard_authz_apikey_wrong_secrets_total", a, count)
                        .description("Presented API keys with a stored id, by outcome: counted (a wrong secret, counted"
                                + " against its key id and client) or refused (unread: that client spent"
                                + " apikey.wrong_secrets_per_source on that id)")
                        .tag("outcome", outcome)
                        .register(registry)));
        knownKeyIds.ifPresent(k -> Gauge.builder("meshguard_authz_apikey_ids_known", k, KnownApiKeyIds::size)
                .description("API key ids this replica knows exist (0 until first read from PostgreSQL)")
                .register(registry));
        this.keyNotices = dataSource.flatMap(ds -> knownKeyIds.flatMap(ids -> apiKeys.map(a -> new ApiKeyNotices(
                ds, a, ids, config.apiKeyCacheTtl().isZero() ? Duration.ofSeconds(30) : config.apiKeyCacheTtl()))));
        keyNotices.ifPresent(n -> Map.<String, ToDoubleFunction<ApiKeyNotices>>of(
                        "created",
                        ApiKeyNotices::createdConfirmed,
                        "created_unconfirmed",
                        ApiKeyNotices::createdUnconfirmed,
                        "changed",
                        ApiKeyNotices::changed,
                        "unreadable",
                        ApiKeyNotices::unreadable)
                .forEach((kind, count) -> FunctionCounter.builder("meshguard_authz_apikey_notices_total", n, count)
                        .description("Notices on meshguard_apikey, by kind: created (confirmed in api_keys, id added),"
                                + " created_unconfirmed (no such key: not added), changed (that key's record dropped),"
                                + " unreadable (names no key: cached keys confirmed against PostgreSQL)")
                        .tag("kind", kind)
                        .register(registry)));
        RateLimiter limiter = globalLimits
                .<RateLimiter>map(g -> g)
                .orElseGet(() ->
                        new TokenBucketLimiter(config.rateLimitMaxBuckets(), Duration.ofMinutes(10), System::nanoTime));
        Gauge.builder("meshguard_ratelimit_mode", () -> 1)
                .description(
                        "Where rate-limit counts live: mode=global (Redis, shared by all replicas) or mode=local (per replica)")
                .tag("mode", limiter.mode())
                .register(registry);
        // in a mesh the sidecar carries this plaintext stream over mTLS; the controller binds it to our SPIFFE ID
        // a (re)connect's first delta response, and every state-of-the-world response, holds every tenant (~6.6 MB at
        // 100,000 subscriptions): gRPC's default 4 MiB inbound limit refused it past ~60,000 and the replica
        // reconnected forever without state
        this.controllerChannel = config.subscriptions().controller().map(target -> NettyChannelBuilder.forTarget(target)
                .usePlaintext()
                .maxInboundMessageSize(SubscriptionStateClient.MAX_STATE_BYTES)
                .build());
        this.subscriptionState = controllerChannel.map(ch -> new SubscriptionStateClient(
                ch, replicaId(), config.subscriptions().maxStaleness(), clock));
        subscriptionState.ifPresent(c -> Gauge.builder(
                        "meshguard_subscription_state_unreadable_tenants",
                        c,
                        SubscriptionStateClient::unreadableTenants)
                .description("tenants whose catalogue rows cannot be read: their product calls are refused"
                        + " (subscription_state_unavailable), every other tenant is served")
                .register(registry));
        this.pipeline = new AuthzPipeline(
                new JwksRegistry(
                        registry, Map.of(), config.jwksHttpTimeout(), IdpTrust.fromPemFile(config.jwksTlsCaFile())),
                apiKeys,
                limiter,
                new SecretFiles(System::nanoTime),
                clock,
                registry,
                config.tokenCacheMaxEntries(),
                config.tokenCacheMaxTtl(),
                quotas,
                subscriptionState
                        .map(c -> new SubscriptionGate(c::current, clock))
                        .orElse(SubscriptionGate.NONE));
        if (config.policyRequireApproval() && dataSource.isEmpty()) {
            throw new IllegalArgumentException(
                    "policy.require_approval needs db.url: the approvals are read from PostgreSQL (approved_policy)");
        }
        // with policy.require_approval only files a second person approved are taken (docs/operate/change-policy.md)
        this.approvedOnly = dataSource
                .filter(ds -> config.policyRequireApproval())
                .map(ds -> new ApprovedPolicies("authz", ds, registry));
        this.watcher = new PolicyWatcher<>(
                "authz",
                config.policyFile(),
                approvedOnly.map(a -> a.gate(new AuthzPolicyFiles())).orElseGet(AuthzPolicyFiles::new),
                registry,
                config.policyReloadInterval());
        // every reload, taken or refused, is a row of the admin trail (in the same database as the keys and quotas)
        dataSource.ifPresent(ds -> watcher.addReloadListener(new io.meshguard.audit.trail.TrailedPolicyReloads(
                new io.meshguard.audit.trail.AdminTrail(ds), "extauthz", replicaId())));
        // runs on the watcher's thread after each validated swap, and for the initial load
        watcher.addListener(loaded -> {
            quotas.declare(loaded.value());
            pipeline.use(loaded.value());
            if (!config.tokenExchange().configured()) {
                List<String> exchanging = loaded.value().routes().stream()
                        .filter(r ->
                                r.access().mcp().flatMap(m -> m.tokenExchange()).isPresent())
                        .map(r -> r.name())
                        .toList();
                if (!exchanging.isEmpty()) {
                    LOG.error(
                            "routes {} exchange the caller's token but token_exchange.token_endpoint, client_id or "
                                    + "client_secret_file is not set: their requests are refused (503 "
                                    + "token_exchange_unavailable)",
                            exchanging);
                }
            }
        });
        // MCP routes with token_exchange: the caller's token is exchanged for one issued to the MCP server
        io.meshguard.extauthz.exchange.TokenExchangeSettings exchange = config.tokenExchange();
        this.service = new AuthorizationService(
                pipeline,
                audit,
                clock,
                registry,
                tracing,
                Optional.of(new io.meshguard.extauthz.exchange.UpstreamTokenExchange(
                        new io.meshguard.extauthz.exchange.TokenExchangeClient(
                                exchange,
                                new SecretFiles(System::nanoTime),
                                IdpTrust.context("jwks.tls_ca_file", config.jwksTlsCaFile()),
                                clock,
                                registry),
                        new io.meshguard.extauthz.exchange.ExchangedTokens(exchange.cacheMaxEntries(), clock),
                        exchange.timeout(),
                        registry)));
        // every Check Envoy can send is read and answered (CheckSize): the inbound limit never sits below its floor
        io.meshguard.runtime.grpc.GrpcServerSettings grpcSettings = config.grpc()
                                .maxInboundMessageBytes()
                        < CheckSize.MESSAGE_LIMIT_BYTES
                ? config.grpc()
                        .withLimits(CheckSize.MESSAGE_LIMIT_BYTES, config.grpc().maxConcurrentCalls())
                : config.grpc();
        this.grpc = new GrpcServerHost("extauthz-grpc", grpcSettings, List.of(tracing.bind(service)), registry);
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "extauthz-background");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public String name() {
        return "extauthz";
    }

    /** Loads the policy, binds gRPC and starts watching; until a valid policy loads every Check is denied. */
    @Override
    public void start() throws IOException {
        // a store that is down at start does not stop the server: the breaker opens and limits run degraded
        redis.ifPresent(RedisConnection::connectInBackground);
        globalLimits.ifPresent(RedisRateLimiter::start);
        if (redis.isEmpty()) {
            LOG.atWarn()
                    .addKeyValue("event", "ratelimit_local")
                    .log("no redis.url: rate limits are per replica (N replicas allow up to N x each limit)");
        } else {
            LOG.atInfo()
                    .addKeyValue("event", "ratelimit_global")
                    .addKeyValue("redis", config.redis().redactedUrl())
                    .log(
                            "rate limits are global, shared through {}",
                            config.redis().redactedUrl());
        }
        watcher.start();
        subscriptionState.ifPresent(SubscriptionStateClient::start);
        keyNotices.ifPresent(ApiKeyNotices::start);
        knownKeyIds.ifPresent(k -> background.scheduleWithFixedDelay(
                k::readWhole, KEY_IDS_READ_WHOLE.toMillis(), KEY_IDS_READ_WHOLE.toMillis(), TimeUnit.MILLISECONDS));
        grpc.start();
        background.execute(pipeline::warmUp);
        background.scheduleWithFixedDelay(this::refreshHealth, 1, 1, TimeUnit.SECONDS);
        approvedOnly.ifPresent(a -> {
            long every = config.policyReloadInterval().toMillis();
            background.scheduleWithFixedDelay(
                    () -> a.recheck(watcher::reloadRefused), every, every, TimeUnit.MILLISECONDS);
        });
        long flush = config.quota().flushInterval().toMillis();
        background.scheduleWithFixedDelay(quotas::flush, flush, flush, TimeUnit.MILLISECONDS);
        apiKeys.ifPresent(a -> background.scheduleWithFixedDelay(
                a::flushUsage,
                config.apiKeyUsageFlushInterval().toMillis(),
                config.apiKeyUsageFlushInterval().toMillis(),
                TimeUnit.MILLISECONDS));
        refreshHealth();
        LOG.info("extauthz gRPC listening on {}:{}", config.grpc().bind(), grpcPort());
    }

    /**
     * Mounts the admin endpoints ({@code /quotas}, {@code /apikeys}) on a status HTTP listener, before it starts, with
     * the tokens of {@code quota.admin.token_file}; every caller acts for every tenant. Without a database they answer
     * 503; without the token file too.
     */
    public void mountQuotaApi(StatusHttpServer http) {
        mountAdminApis(
                http, AdminGate.local(new BearerTokens(config.quota().adminTokenFile()), "quota.admin.token_file"));
    }

    /** As {@link #mountQuotaApi(StatusHttpServer)}, behind the admin plane's gate (OIDC, role bindings, break-glass). */
    public void mountQuotaApi(StatusHttpServer http, AdminAccessSettings access) throws ConfigException {
        mountAdminApis(
                http,
                access.gate(
                        new BearerTokens(config.quota().adminTokenFile()),
                        "quota.admin.token_file",
                        dataSource
                                .<io.meshguard.access.AdminEvents>map(ds -> new io.meshguard.access.TrailAdminEvents(
                                        new io.meshguard.audit.trail.AdminTrail(ds)))
                                .orElseGet(LoggedAdminEvents::new)));
    }

    /**
     * Mounts {@code /quotas} and {@code /apikeys} behind {@code gate}: the one permission check; a caller's API keys
     * and quota counters are its tenants' (another tenant's key or counter answers 404).
     */
    public void mountAdminApis(StatusHttpServer http, AdminGate gate) {
        http.addHandler(
                QuotaAdminApi.PREFIX,
                new QuotaAdminApi(
                        () -> pipeline.policy(),
                        quotaOperations(),
                        gate,
                        new io.meshguard.extauthz.quota.QuotaOwners(dataSource.map(JdbcApiKeyStore::new))));
        http.addHandler(ApiKeyAdminApi.PREFIX, apiKeyAdminApi(gate));
    }

    /** The API keys' admin operations behind {@code gate}, on this server's key database and audit sink. */
    public ApiKeyAdminApi apiKeyAdminApi(AdminGate gate) {
        return new ApiKeyAdminApi(
                dataSource.map(JdbcApiKeyStore::new),
                clock,
                gate,
                auditSink,
                keyId -> apiKeys.ifPresent(a -> a.invalidate(keyId)),
                config.apiKeyLimits());
    }

    private Optional<QuotaOperations> quotaOperations() {
        return quotaStore.map(s -> new QuotaOperations(
                s,
                () -> redis,
                new LiveCounters(
                        config.redis().keyPrefix(),
                        config.redis().commandTimeout().multipliedBy(10)),
                quotaAudit,
                Clock.systemUTC(),
                quotas::changedByOperator));
    }

    /** The quota counter of this server (tests read its pending increments). */
    public QuotaCounter quotas() {
        return quotas;
    }

    /** gRPC health follows readiness: NOT_SERVING for the Check service until the policy and keys are there. */
    private void refreshHealth() {
        if (grpc.isDraining()) {
            return;
        }
        boolean ready = notReady().isEmpty();
        grpc.health().setStatus(SERVICE, ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
        if (!ready && pipeline.policy().isPresent()) {
            background.execute(pipeline::warmUp);
        }
    }

    @Override
    public List<ReadinessCheck> readinessChecks() {
        List<ReadinessCheck> checks = new ArrayList<>(watcher.readinessChecks());
        checks.addAll(grpc.readinessChecks());
        // degraded limits still serve (each replica enforces its share): ready, with the reason in the detail
        checks.add(ReadinessCheck.of("ratelimit", this::rateLimitReadiness));
        // docs/products.md "Subscription state on extauthz": not ready until a first state arrived
        checks.add(new SubscriptionReadiness(config.subscriptions().controller(), subscriptionState, pipeline::policy)
                .check());
        checks.add(ReadinessCheck.of("jwks", () -> {
            List<String> missing = pipeline.issuersNotReady();
            return missing.isEmpty()
                    ? ReadinessCheck.Result.ready("every issuer's keys retrieved")
                    : ReadinessCheck.Result.notReady("keys never retrieved: " + String.join(", ", missing));
        }));
        return checks;
    }

    private ReadinessCheck.Result rateLimitReadiness() {
        if (globalLimits.isEmpty()) {
            return ReadinessCheck.Result.ready(
                    "local: limits are per replica (no redis.url); N replicas allow up to N x each limit");
        }
        RedisRateLimiter g = globalLimits.get();
        StoreBreaker.Stats stats = g.breaker().stats();
        String store = config.redis().redactedUrl();
        if (stats.state() == StoreBreaker.State.CLOSED && redis.get().isOpen()) {
            return ReadinessCheck.Result.ready("global via " + store + ", " + g.replicas() + " replica(s) sharing it");
        }
        return ReadinessCheck.Result.ready("degraded: store " + store + " unreachable (breaker "
                + stats.state().label()
                + (stats.lastError().isEmpty() ? "" : ", last error: " + stats.lastError())
                + "); each replica enforces 1/"
                + g.replicas() + " of each limit, fail_closed routes answer 503");
    }

    /** A stable id of this replica in the store's replica set: the pod name when there is one, and a random part. */
    private static String replicaId() {
        String host = System.getenv().getOrDefault("HOSTNAME", "extauthz");
        return host + "-"
                + Long.toHexString(
                        java.util.concurrent.ThreadLocalRandom.current().nextLong());
    }

    /** The global limiter, when {@code redis.url} is set. */
    public Optional<RedisRateLimiter> globalLimits() {
        return globalLimits;
    }

    /** Why the server is not ready (empty when it is). */
    public List<String> notReady() {
        List<String> problems = new ArrayList<>();
        for (ReadinessCheck check : readinessChecks()) {
            ReadinessCheck.Result r = check.check();
            if (!r.ready()) {
                problems.add(check.name() + ": " + r.detail());
            }
        }
        return problems;
    }

    public int grpcPort() {
        return grpc.port();
    }

    public AuthzPipeline pipeline() {
        return pipeline;
    }

    public PolicyWatcher<AuthzPolicy> watcher() {
        return watcher;
    }

    /** Stops taking new Checks, lets in-flight ones finish (up to the drain timeout), then stops. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // drains first (health NOT_SERVING while still answering, then in-flight Checks finish), then stops the rest
        grpc.close();
        watcher.close();
        background.shutdownNow();
        apiKeys.ifPresent(ApiKeyAuthenticator::flushUsage);
        quotas.flush();
        if (quotas.pendingIncrements() > 0) {
            // PostgreSQL is away at shutdown: say exactly what is lost rather than losing it silently
            LOG.error(
                    "extauthz: {} counted quota requests could not be written to PostgreSQL before shutdown and are lost",
                    quotas.pendingIncrements());
        }
        subscriptionState.ifPresent(SubscriptionStateClient::close);
        keyNotices.ifPresent(ApiKeyNotices::close);
        controllerChannel.ifPresent(ManagedChannel::shutdownNow);
        globalLimits.ifPresent(RedisRateLimiter::close);
        redis.ifPresent(RedisConnection::close);
        pipeline.close();
    }
}
