package io.meshguard.devstack.xds;

import io.meshguard.catalog.api.CatalogSettings;
import io.meshguard.cli.common.RunningStack;
import io.meshguard.cli.xds.AdminPlane;
import io.meshguard.devstack.authz.ExtAuthzStackPart;
import io.meshguard.devstack.dev.DevIssuerStackPart;
import io.meshguard.devstack.dlp.DlpStackPart;
import io.meshguard.devstack.part.LocalSecret;
import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.StackPart;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.policy.PolicyFileSet;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.validate.GatewayEgress;
import io.meshguard.xds.zone.ZoneCentral;
import io.meshguard.xds.zone.ZoneConfig;
import io.meshguard.xds.zone.ZoneHubSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The xDS controller in {@code meshguard up}: ADS on 18000 ({@code --ads-port}), admin API on 9103
 * ({@code --xds-admin-port}) with a token generated into
 * {@code <data-dir>/xds-admin-token}, and the sample configuration published when the database has none.
 */
public final class XdsStackPart implements StackPart {
    private XdsController controller;
    private ZoneCentral zones;
    private StatusHttpServer http;
    private Path tokenFile;
    private Optional<Path> approverTokenFile = Optional.empty();
    private final io.meshguard.devstack.audit.AuditPart audit;
    private final DevIssuerStackPart devIssuer;
    private final ExtAuthzStackPart extAuthz;
    private final DlpStackPart dlp;

    /**
     * Publishes are checked against the policies the stack's servers load: the dev issuer's generated authz policy
     * (what extauthz in {@code up} enforces) and {@code policies/dlp.yaml}.
     *
     * @param audit the stack's audit part, built before this one: admin changes are recorded through it, and the
     *     gateway's access logs go to its receiver
     * @param devIssuer the dev issuer part, set up before this one: it writes the authz policy extauthz loads
     * @param extAuthz the extauthz part, started before this one: the gateway's ext_authz calls its port
     * @param dlp the DLP part, started before this one: the gateway's ext_proc calls its port
     */
    public XdsStackPart(
            io.meshguard.devstack.audit.AuditPart audit,
            DevIssuerStackPart devIssuer,
            ExtAuthzStackPart extAuthz,
            DlpStackPart dlp) {
        this.audit = audit;
        this.devIssuer = devIssuer;
        this.extAuthz = extAuthz;
        this.dlp = dlp;
    }

    @Override
    public String name() {
        return "xds";
    }

    @Override
    public List<ServerComponent> components(StackContext context) throws Exception {
        // A bare token: `Authorization: Bearer $(cat DATA_DIR/xds-admin-token)` works as it is (actor "admin").
        Path tokenFile = LocalSecret.ensure(context.dataDir().resolve(RunningStack.XDS_ADMIN_TOKEN), "", 24);
        // Plain up's second person: four eyes (policy requests, held tool calls) refuse the requester's own approval,
        // so one token could never rehearse them. A file of its own keeps each file one line (actor "approver").
        // Under an issuer the token file is break-glass, which is no second person: the realm's people are.
        Optional<Path> approverTokenFile = context.adminAccess().issuer().isPresent()
                ? Optional.empty()
                : Optional.of(LocalSecret.ensure(
                        context.dataDir().resolve(RunningStack.XDS_APPROVER_TOKEN), "approver:", 24));
        int als = audit.component().accessLogPort().orElse(io.meshguard.devstack.audit.AuditPart.ALS_PORT);
        // The ports the servers really got: a port given as 0 is known only now.
        FilterTargets targets = new FilterTargets(
                "127.0.0.1:" + extAuthz.grpcPort(),
                "127.0.0.1:" + dlp.grpcPort(),
                "127.0.0.1:" + als,
                FilterTargets.DEFAULTS.filterTimeout(),
                context.gatewayTrustedHops());
        XdsSettings settings = new XdsSettings(
                "127.0.0.1",
                context.ports().ads(),
                Optional.of(tokenFile),
                targets,
                Optional.empty(),
                Duration.ofMillis(20),
                Duration.ofSeconds(30),
                Duration.ofSeconds(2),
                "up",
                // explicit: `up` is one machine, ADS on loopback, no mesh identity; the readiness output says so
                AdsPeerPolicy.localDevelopment(),
                // as the manifests: the gateway's virtual hosts over VHDS through its bootstrap's cluster to this
                // controller (deploy/local/envoy-bootstrap.yaml, docs/gateway-envoy-config.md §11)
                Optional.of("meshguard-xds"),
                // one machine: no cluster ranges to check upstreams against
                GatewayEgress.UNCHECKED);
        // the policy files the stack's servers load: a route naming a profile they lack is never published
        PolicyFileSet shipped = PolicyFileSet.in(context.policiesDir());
        PolicyFileSet policies = new PolicyFileSet(devIssuer.policyFile(), shipped.dlpFile());
        XdsController xds = XdsController.create(
                settings,
                context.dataSource(),
                context.metrics().forServer("xds"),
                ConfigChangeAudit.to(audit.component().sink()),
                Optional.of(policies),
                context.tracing());
        // the console's redirect URI names the port, so a port given as 0 is chosen now rather than at bind time
        int adminPort =
                context.ports().xdsAdmin() != 0 || context.consoleClient().isEmpty()
                        ? context.ports().xdsAdmin()
                        : freeLoopbackPort();
        StatusHttpServer http = new StatusHttpServer(
                "xds-http",
                new HttpServerSettings("127.0.0.1", adminPort),
                context.metrics().registry());
        // One gate for the local stack's admin port: the controller's API, extauthz's /quotas and /apikeys, the
        // catalogue. Plain up: the token file (its holder is system-admin), so `meshguard apikey` and `meshguard quota`
        // act through the admin API. up --idp keycloak: the realm's access tokens with policies/access.yaml, and the
        // same file as break-glass (every use logged at WARN and in the admin trail), which those commands use.
        io.meshguard.access.TrailAdminEvents events =
                new io.meshguard.access.TrailAdminEvents(new io.meshguard.audit.trail.AdminTrail(context.dataSource()));
        io.meshguard.runtime.http.BearerTokens tokens = new io.meshguard.runtime.http.BearerTokens(
                java.util.stream.Stream.concat(java.util.stream.Stream.of(tokenFile), approverTokenFile.stream())
                        .toList());
        io.meshguard.access.AdminGate gate = context.adminAccess().issuer().isPresent()
                ? context.adminAccess().gate(tokens, "xds.admin.token_file", events)
                : io.meshguard.access.AdminGate.local(tokens, "xds.admin.token_file");
        // the API keys' and quotas' operations of up's extauthz on the same port (a cluster serves them on extauthz's)
        extAuthz.server().mountAdminApis(http, gate);
        // the admin plane exactly as `meshguard xds` mounts it (AdminPlane): the controller's API, the catalogue (up
        // --idp keycloak: customers' OAuth2 clients are created in its realm; plain up binds API keys only) and the
        // console. Plain up: the console signs in with the token file's token; up --idp keycloak: through the realm,
        // as its confidential console client (authorization code + PKCE)
        Optional<String> consoleIssuer =
                context.consoleClient().flatMap(c -> context.adminAccess().issuer());
        // up signs the trail's head with a key of its own, made on first start beside the admin token; the public key
        // is what `meshguard audit verify --checkpoints DATA_DIR/trail-checkpoints` checks the signatures with
        Path checkpointKey = io.meshguard.audit.trail.CheckpointKeys.ensure(
                context.dataDir().resolve("trail-checkpoint.key"),
                context.dataDir().resolve("trail-checkpoint.pub"));
        AdminPlane.Mounted plane = new AdminPlane(
                        gate,
                        events,
                        context.dataSource(),
                        new CatalogSettings(
                                CatalogSettings.DOMAIN.defaultValue(),
                                context.productIdp().map(io.meshguard.cli.idp.ProductIdp::clients)),
                        io.meshguard.console.ConsoleSettings.of(
                                consoleIssuer,
                                context.consoleClient()
                                        .map(io.meshguard.devstack.idp.ConsoleClient::clientId)
                                        .orElse("meshguard-console"),
                                context.consoleClient().map(io.meshguard.devstack.idp.ConsoleClient::secret),
                                "http://127.0.0.1:" + adminPort),
                        extAuthz.server().apiKeyAdminApi(gate),
                        new io.meshguard.audit.trail.TrailCheckpointSettings(
                                Optional.of(checkpointKey),
                                context.dataDir().resolve("trail-checkpoints"),
                                io.meshguard.audit.trail.TrailCheckpointSettings.INTERVAL.defaultValue()),
                        context.metrics().forServer("xds"))
                .configure(http, xds, io.meshguard.extauthz.quota.QuotaAdminApi.operations());
        this.controller = xds;
        this.http = http;
        this.tokenFile = tokenFile;
        this.approverTokenFile = approverTokenFile;
        // central's zone hub on loopback, on --zone-hub-port (in up.json): `meshguard cluster register` and
        // /v1/operator/fleet work against
        // up, and a zone controller on this machine can follow it; its metrics are the ones the alert rules name
        zones = new ZoneCentral(
                context.dataSource(),
                xds.revisions(),
                context.metrics().forServer("xds"),
                new InetSocketAddress("127.0.0.1", context.ports().zoneHub()),
                ZoneHubSettings.DEFAULTS,
                ZoneConfig.HUB_CREDENTIAL_LIFETIME.defaultValue());
        zones.mountAdminApi(http, gate, events);
        http.addReadinessChecks(zones.readinessChecks());
        return List.of(xds, zones, plane.trailCheckpoints(), http, new SampleConfig(xds));
    }

    /** A port free on loopback now (the JDK server is then bound to it; a race with another process is unlikely). */
    private static int freeLoopbackPort() throws java.io.IOException {
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        }
    }

    /** Port of the ADS listener; only after {@link #components}. */
    public int adsPort() {
        return controller.adsPort();
    }

    /** Base URL of the admin API; only after {@link #components}. */
    public String adminUrl() {
        return "http://127.0.0.1:" + http.port();
    }

    /** File holding the admin API's bearer token; only after {@link #components}. */
    public Path tokenFile() {
        return tokenFile;
    }

    @Override
    public Map<String, Integer> ports() {
        return controller == null
                ? Map.of()
                : Map.of(
                        RunningStack.ADS,
                        controller.adsPort(),
                        RunningStack.XDS_ADMIN,
                        http.port(),
                        RunningStack.ZONE_HUB,
                        zones.port());
    }

    @Override
    public Map<String, Path> files() {
        if (tokenFile == null) {
            return Map.of();
        }
        return approverTokenFile
                .map(approver ->
                        Map.of(RunningStack.XDS_ADMIN_TOKEN, tokenFile, RunningStack.XDS_APPROVER_TOKEN, approver))
                .orElse(Map.of(RunningStack.XDS_ADMIN_TOKEN, tokenFile));
    }

    @Override
    public List<String> endpoints() {
        return List.of(
                "gRPC 127.0.0.1:" + controller.adsPort() + " (ADS)",
                "gRPC 127.0.0.1:" + zones.port() + " (zone hub: meshguard cluster register, /v1/operator/fleet)",
                "http://127.0.0.1:" + http.port() + " (admin API, token in " + tokenFile
                        + approverTokenFile
                                .map(f -> "; a second person's, for four eyes, in " + f)
                                .orElse("")
                        + ")");
    }

    /** Publishes the sample gateway configuration once the controller runs, if the database has none. */
    private record SampleConfig(XdsController xds) implements ServerComponent {
        @Override
        public String name() {
            return "xds-sample-config";
        }

        @Override
        public void start() {
            xds.publishSampleIfEmpty();
        }

        @Override
        public void close() {
            // nothing to stop
        }
    }
}
