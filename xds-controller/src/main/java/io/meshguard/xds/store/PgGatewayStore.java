package io.meshguard.xds.store;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.Cors;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.TemplateKind;
import io.meshguard.xds.model.Upstream;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;

/**
 * The editable gateway configuration (the draft that {@code POST /publish} turns into revisions) in the tables of
 * migrations V2 and V20. Reads and writes the whole model; every write runs in one transaction.
 */
public final class PgGatewayStore {
    private static final ObjectMapper JSON = ConfigJson.mapper();
    /** Advisory-lock key of draft edits (arbitrary, fixed: every replica must use the same one). */
    private static final long DRAFT_LOCK = 0x6d67_6472_6166_7431L;

    private final DataSource dataSource;
    private final AtomicReference<Read> lastRead = new AtomicReference<>();

    public PgGatewayStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The whole draft configuration. */
    public GatewayConfig load() {
        try (Connection c = dataSource.getConnection()) {
            c.setReadOnly(true);
            c.setAutoCommit(false);
            // one snapshot: the generation and the rows it stands for
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try {
                return current(c);
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the gateway configuration", e);
        }
    }

    /**
     * Makes the draft equal to {@code config}: objects are inserted or updated by name, objects not in it are
     * deleted. The caller validates first.
     */
    public void replace(GatewayConfig config) {
        edit(current -> config);
    }

    /**
     * Reads the draft, applies {@code edit} and writes its result in one transaction holding a database-wide lock,
     * so two controller replicas editing at once cannot lose each other's change. An exception thrown by
     * {@code edit} (a refused change) writes nothing and reaches the caller unchanged.
     *
     * @return the draft as written
     */
    public GatewayConfig edit(UnaryOperator<GatewayConfig> edit) {
        return edit(edit, DEFAULT_TENANT);
    }

    /**
     * As {@link #edit(UnaryOperator)}; the APIs, upstreams and routes the edit creates belong to {@code tenant}
     * (created on first use). Objects that existed keep their tenant.
     */
    public GatewayConfig edit(UnaryOperator<GatewayConfig> edit, String tenant) {
        return edit(edit, tenant, c -> {});
    }

    /** Work that must commit with a draft change or not at all (its admin-trail row). */
    @FunctionalInterface
    public interface AlongWith {
        void run(Connection c) throws SQLException;
    }

    /**
     * As {@link #edit(UnaryOperator, String)}, running {@code alongWith} in the same transaction after the write: the
     * change and what it runs commit together, and a failure of either writes neither.
     */
    public GatewayConfig edit(UnaryOperator<GatewayConfig> edit, String tenant, AlongWith alongWith) {
        if (!TenantScope.validId(tenant)) {
            throw new IllegalArgumentException("not a tenant id: '" + tenant + "'");
        }
        AtomicReference<Read> written = new AtomicReference<>();
        GatewayConfig result = inTransaction(c -> {
            try (PreparedStatement lock = c.prepareStatement("select pg_advisory_xact_lock(?)")) {
                lock.setLong(1, DRAFT_LOCK);
                lock.execute();
            }
            // and the generation's row: a statement outside these edits that changes a draft table waits for this
            // transaction before its change can commit, so the draft's rows are the ones read plus this edit's
            try (Statement st = c.createStatement()) {
                st.execute("select n from draft_generation where id = 1 for update");
            }
            GatewayConfig current = current(c);
            GatewayConfig config = edit.apply(current);
            write(c, current, config);
            assignTenant(c, current, config, tenant);
            alongWith.run(c);
            // the draft as the next read would find it, so a publish right after the edit does not read it whole;
            // this transaction's generation is the committed one (the row lock orders every writer after it)
            if (!config.equals(current)) {
                OptionalLong generation = generation(c);
                GatewayConfig read = readBack(c, current, config).reusing(config);
                generation.ifPresent(g -> written.set(new Read(g, read)));
            }
            return config;
        });
        if (written.get() != null) {
            lastRead.set(written.get());
        }
        return result;
    }

    /**
     * The draft as a read finds it once {@code config} was written over {@code current} (both as read in this
     * transaction, which holds the generation's row). An edit of routes alone reads back only the routes it wrote
     * (reading a 2,000-route draft whole took ~11 ms of every one-route change), and the draft's route order
     * only when it added one; any other edit reads the draft whole.
     */
    private static GatewayConfig readBack(Connection c, GatewayConfig current, GatewayConfig config)
            throws SQLException {
        if (!current.groups().equals(config.groups())
                || !current.upstreams().equals(config.upstreams())
                || !current.apis().equals(config.apis())) {
            return load(c);
        }
        Optional<List<Integer>> inPlace = editedInPlace(current.routes(), config.routes(), PgGatewayStore::routeKey);
        if (inPlace.isPresent()) {
            List<Route> written =
                    inPlace.get().stream().map(config.routes()::get).toList();
            Map<String, Route> reread = byName(routes(c, Optional.of(written)), PgGatewayStore::routeKey);
            List<Route> routes = new ArrayList<>(current.routes());
            for (int i : inPlace.get()) {
                Route r = reread.get(routeKey(config.routes().get(i)));
                if (r == null) {
                    return load(c);
                }
                routes.set(i, r);
            }
            return new GatewayConfig(current.groups(), current.upstreams(), current.apis(), routes);
        }
        Map<String, Route> before = byName(current.routes(), PgGatewayStore::routeKey);
        Map<String, Route> after = byName(config.routes(), PgGatewayStore::routeKey);
        List<Route> written = config.routes().stream()
                .filter(r -> !r.equals(before.get(routeKey(r))))
                .toList();
        Map<String, Route> reread = byName(routes(c, Optional.of(written)), PgGatewayStore::routeKey);
        if (!written.stream().allMatch(r -> reread.containsKey(routeKey(r)))) {
            return load(c);
        }
        List<Route> routes = new ArrayList<>(after.size());
        if (written.stream().allMatch(r -> before.containsKey(routeKey(r)))) {
            // updated in place: a route's row keeps its priority, so the draft's order is the one read before
            for (Route r : current.routes()) {
                String key = routeKey(r);
                if (after.containsKey(key)) {
                    routes.add(reread.getOrDefault(key, r));
                }
            }
        } else {
            for (String key : routeOrder(c)) {
                Route r = reread.containsKey(key) ? reread.get(key) : before.get(key);
                if (r == null) {
                    return load(c); // a route neither read before nor written here: read what is there
                }
                routes.add(r);
            }
        }
        return routes.size() == after.size()
                ? new GatewayConfig(current.groups(), current.upstreams(), current.apis(), routes)
                : load(c);
    }

    /** The keys of the draft's enabled routes, in the order {@link #routes} reads them. */
    private static List<String> routeOrder(Connection c) throws SQLException {
        List<String> keys = new ArrayList<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select g.name, r.name " + ENABLED_ROUTES.formatted("") + IN_ORDER)) {
            while (rs.next()) {
                keys.add(rs.getString(1) + "\u0000" + rs.getString(2));
            }
        }
        return keys;
    }

    /** The tenant rows migrated before tenants existed, and rows created without one, belong to. */
    public static final String DEFAULT_TENANT = "default";

    /**
     * Which tenant owns each API, upstream and route that {@code scope} may see, read in a transaction PostgreSQL
     * confines to the scope (row-level security): an object of another tenant is absent, whatever this query says.
     */
    public Ownership ownership(TenantScope scope) {
        try {
            return new TenantScopedTransactions(dataSource)
                    .inScope(
                            scope,
                            c -> new Ownership(
                                    pairs(c, "select name, tenant from api"),
                                    pairs(c, "select name, tenant from upstream"),
                                    pairs(
                                            c,
                                            "select g.name || '/' || r.name, r.tenant from route r join gateway_group g on g.id = r.group_id")));
        } catch (SQLException e) {
            throw new StoreException("cannot read which tenant owns what", e);
        }
    }

    /**
     * Whether an operator assigned gateway group {@code group} to {@code tenant}: on some cluster, not withdrawn, with
     * the tenant among those that publish into it ({@code cluster_group.publishing_tenants}, the same assignment a
     * product publish needs). Groups are the operators': a tenant places its routes, and with them its hostnames and
     * upstreams, only where it was given room.
     */
    public boolean assignedTo(String group, String tenant) {
        try {
            return new TenantScopedTransactions(dataSource).inScope(TenantScope.of(java.util.Set.of(tenant)), c -> {
                try (java.sql.PreparedStatement ps = c.prepareStatement("select exists (select 1 from cluster_group"
                        + " where gateway_group = ? and withdrawn_at is null and ? = any (publishing_tenants))")) {
                    ps.setString(1, group);
                    ps.setString(2, tenant);
                    try (ResultSet rs = ps.executeQuery()) {
                        return rs.next() && rs.getBoolean(1);
                    }
                }
            });
        } catch (SQLException e) {
            throw new StoreException("cannot read the gateway groups assigned to tenant " + tenant, e);
        }
    }

    /**
     * The Kubernetes namespaces each tenant's upstreams may name Services in, per gateway group: those every cluster
     * serving the group for the tenant (not withdrawn, the tenant among its publishing tenants) assigned it there
     * ({@code cluster_group.service_namespaces}); a group or tenant absent has none.
     */
    public Map<String, Map<String, Set<String>>> serviceNamespaces() {
        try {
            return new TenantScopedTransactions(dataSource).inScope(TenantScope.ALL, c -> {
                Map<String, Map<String, Set<String>>> out = new java.util.TreeMap<>();
                try (java.sql.PreparedStatement ps = c.prepareStatement("select g.gateway_group, t.tenant,"
                                + " coalesce((select array_agg(x) from jsonb_array_elements_text("
                                + "case jsonb_typeof(g.service_namespaces -> t.tenant) when 'array' then"
                                + " g.service_namespaces -> t.tenant else '[]'::jsonb end) x), '{}'::text[])"
                                + " from cluster_group g cross join unnest(g.publishing_tenants) as t(tenant)"
                                + " where g.withdrawn_at is null");
                        ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Set<String> names = new java.util.TreeSet<>(java.util.Arrays.asList(
                                (String[]) rs.getArray(3).getArray()));
                        // every cluster serving the group must have assigned it: the intersection
                        out.computeIfAbsent(rs.getString(1), g -> new java.util.TreeMap<>())
                                .merge(rs.getString(2), names, (a, b) -> {
                                    Set<String> both = new java.util.TreeSet<>(a);
                                    both.retainAll(b);
                                    return both;
                                });
                    }
                }
                return out;
            });
        } catch (SQLException e) {
            throw new StoreException("cannot read the namespaces assigned to tenants", e);
        }
    }

    private static Map<String, String> pairs(Connection c, String sql) throws SQLException {
        Map<String, String> out = new java.util.TreeMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    private static void assignTenant(Connection c, GatewayConfig current, GatewayConfig config, String tenant)
            throws SQLException {
        Map<String, Api> currentApis = byName(current.apis(), Api::name);
        Map<String, Upstream> currentUpstreams = byName(current.upstreams(), Upstream::name);
        Map<String, Route> currentRoutes = byName(current.routes(), PgGatewayStore::routeKey);
        List<String> apis = config.apis().stream()
                .map(Api::name)
                .filter(n -> !currentApis.containsKey(n))
                .toList();
        List<String> upstreams = config.upstreams().stream()
                .map(Upstream::name)
                .filter(n -> !currentUpstreams.containsKey(n))
                .toList();
        List<Route> routes = config.routes().stream()
                .filter(r -> !currentRoutes.containsKey(routeKey(r)))
                .toList();
        if (apis.isEmpty() && upstreams.isEmpty() && routes.isEmpty() || tenant.equals(DEFAULT_TENANT)) {
            return;
        }
        exec(c, "insert into tenant (id) values (?) on conflict do nothing", tenant);
        for (String table : List.of("api", "upstream")) {
            try (PreparedStatement ps =
                    c.prepareStatement("update " + table + " set tenant = ? where name = any (?)")) {
                ps.setString(1, tenant);
                ps.setArray(2, c.createArrayOf("varchar", (table.equals("api") ? apis : upstreams).toArray()));
                ps.executeUpdate();
            }
        }
        for (Route r : routes) {
            exec(
                    c,
                    "update route set tenant = ? where name = ? and group_id = (select id from gateway_group where name = ?)",
                    tenant,
                    r.name(),
                    r.group());
        }
    }

    /**
     * Writes what differs between {@code current} (the draft as read in this transaction) and {@code config}: an object
     * equal to its current row is left alone, so a one-route change costs one route's statements whatever the draft's
     * size. Deletes routes first and APIs, upstreams and groups last, as references require.
     */
    private static void write(Connection c, GatewayConfig current, GatewayConfig config) throws SQLException {
        Optional<List<Integer>> groups = editedInPlace(current.groups(), config.groups(), GatewayGroup::name);
        Optional<List<Integer>> upstreams = editedInPlace(current.upstreams(), config.upstreams(), Upstream::name);
        Optional<List<Integer>> apis = editedInPlace(current.apis(), config.apis(), Api::name);
        Optional<List<Integer>> routes = editedInPlace(current.routes(), config.routes(), PgGatewayStore::routeKey);
        if (groups.isPresent() && upstreams.isPresent() && apis.isPresent() && routes.isPresent()) {
            // nothing created or deleted: write what changed in place, in the order below
            for (int i : groups.get()) {
                upsertGroup(c, config.groups().get(i));
            }
            for (int i : upstreams.get()) {
                upsertUpstream(c, config.upstreams().get(i));
            }
            for (int i : apis.get()) {
                upsertApi(c, config.apis().get(i));
            }
            for (int i : routes.get()) {
                upsertRoute(c, config.routes().get(i));
            }
            return;
        }
        Map<String, Route> wantedRoutes = byName(config.routes(), PgGatewayStore::routeKey);
        for (Route r : current.routes()) {
            if (!wantedRoutes.containsKey(routeKey(r))) {
                deleteRoute(c, r.group(), r.name());
            }
        }
        Map<String, GatewayGroup> currentGroups = byName(current.groups(), GatewayGroup::name);
        for (GatewayGroup g : config.groups()) {
            if (!g.equals(currentGroups.get(g.name()))) {
                upsertGroup(c, g);
            }
        }
        Map<String, Upstream> currentUpstreams = byName(current.upstreams(), Upstream::name);
        for (Upstream u : config.upstreams()) {
            if (!u.equals(currentUpstreams.get(u.name()))) {
                upsertUpstream(c, u);
            }
        }
        Map<String, Api> currentApis = byName(current.apis(), Api::name);
        for (Api a : config.apis()) {
            if (!a.equals(currentApis.get(a.name()))) {
                upsertApi(c, a);
            }
        }
        Map<String, Route> currentRoutes = byName(current.routes(), PgGatewayStore::routeKey);
        for (Route r : config.routes()) {
            if (!r.equals(currentRoutes.get(routeKey(r)))) {
                upsertRoute(c, r);
            }
        }
        Set<String> wantedApis = byName(config.apis(), Api::name).keySet();
        for (Api a : current.apis()) {
            if (!wantedApis.contains(a.name())) {
                exec(c, "delete from api where name = ?", a.name());
            }
        }
        Set<String> wantedUpstreams = byName(config.upstreams(), Upstream::name).keySet();
        for (Upstream u : current.upstreams()) {
            if (!wantedUpstreams.contains(u.name())) {
                exec(c, "delete from upstream where name = ?", u.name());
            }
        }
        Set<String> wantedGroups = byName(config.groups(), GatewayGroup::name).keySet();
        for (GatewayGroup g : current.groups()) {
            if (!wantedGroups.contains(g.name())) {
                deleteGroup(c, g.name());
            }
        }
    }

    /**
     * The places where {@code after} holds an object that differs from {@code before}'s, when the change is an edit in
     * place (as long, the same name place by place: nothing created, deleted or moved); empty otherwise. An edit keeps
     * the objects it did not touch, so a one-route change of a 2,000-route draft compares 2,000 references instead of
     * hashing every name twice.
     */
    private static <T> Optional<List<Integer>> editedInPlace(
            List<T> before, List<T> after, java.util.function.Function<T, String> key) {
        if (before.size() != after.size()) {
            return Optional.empty();
        }
        List<Integer> changed = new ArrayList<>();
        for (int i = 0; i < after.size(); i++) {
            T b = before.get(i);
            T a = after.get(i);
            if (b == a) {
                continue;
            }
            if (!key.apply(b).equals(key.apply(a))) {
                return Optional.empty();
            }
            if (!b.equals(a)) {
                changed.add(i);
            }
        }
        return Optional.of(changed);
    }

    /** A route's identity in the draft: its name within its group. */
    private static String routeKey(Route r) {
        return r.group() + "\u0000" + r.name();
    }

    /** The objects by key; the first of duplicates wins (the validator refuses duplicates before a write). */
    private static <T> Map<String, T> byName(List<T> objects, java.util.function.Function<T, String> key) {
        Map<String, T> out = new HashMap<>(objects.size() * 2);
        for (T o : objects) {
            out.putIfAbsent(key.apply(o), o);
        }
        return out;
    }

    // ------------------------------------------------------------------ reading

    /** The draft as read at a generation of {@code draft_generation}. */
    private record Read(long generation, GatewayConfig config) {}

    /**
     * The draft: the one read before when the draft's generation has not moved since (V74: every statement that
     * changes a draft table moves it, in its own transaction), otherwise read whole. The generation is read before the
     * rows, so rows newer than it are at worst read again next time, never taken for an older generation.
     */
    private GatewayConfig current(Connection c) throws SQLException {
        OptionalLong generation = generation(c);
        Read last = lastRead.get();
        if (generation.isPresent() && last != null && last.generation() == generation.getAsLong()) {
            return last.config();
        }
        GatewayConfig config = last == null ? load(c) : load(c).reusing(last.config());
        generation.ifPresent(g -> lastRead.set(new Read(g, config)));
        return config;
    }

    /** The draft's generation; empty when its row is gone (then every read reads the rows). */
    private static OptionalLong generation(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("select n from draft_generation where id = 1")) {
            return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
        }
    }

    private static GatewayConfig load(Connection c) throws SQLException {
        List<GatewayGroup> groups = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                select name, environment, region, domain, hostnames, hostname_template, listener_port, proxyless_authz,
                       cors, api_cors, template_kind
                from gateway_group order by name""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                groups.add(new GatewayGroup(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        Optional.ofNullable(rs.getString(4)),
                        strings(rs.getArray(5)),
                        rs.getString(6),
                        rs.getInt(7),
                        GatewayGroup.ProxylessAuthz.valueOf(rs.getString(8).toUpperCase(Locale.ROOT)),
                        json(rs.getString(9), Cors.class),
                        JSON.readValue(rs.getString(10), new TypeReference<Map<String, Cors>>() {}),
                        TemplateKind.of(rs.getString(11))));
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SQLException("unreadable JSON column in gateway_group: " + e.getOriginalMessage(), e);
        }
        Map<Long, List<Upstream.Endpoint>> endpoints = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement(
                        "select upstream_id, host, port, weight from upstream_endpoint order by upstream_id, id");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                endpoints
                        .computeIfAbsent(rs.getLong(1), k -> new ArrayList<>())
                        .add(new Upstream.Endpoint(rs.getString(2), rs.getInt(3), rs.getInt(4)));
            }
        }
        List<Upstream> upstreams = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                select id, name, protocol, lb_policy, connect_timeout_ms, health_check, circuit_breakers,
                       outlier_detection, tls, address_exceptions::text, host
                from upstream order by name""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                upstreams.add(new Upstream(
                        rs.getString(2),
                        Upstream.Protocol.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)),
                        Upstream.LbPolicy.valueOf(rs.getString(4).toUpperCase(Locale.ROOT)),
                        rs.getInt(5),
                        endpoints.getOrDefault(rs.getLong(1), List.of()),
                        json(rs.getString(6), Upstream.HealthCheck.class),
                        json(rs.getString(7), Upstream.CircuitBreaker.class),
                        json(rs.getString(8), Upstream.OutlierDetection.class),
                        json(rs.getString(9), Upstream.Tls.class),
                        List.of(ConfigJson.read(rs.getString(10), Upstream.AddressException[].class)),
                        Optional.ofNullable(rs.getString(11))));
            }
        }
        Map<Long, List<Api.ApiVersion>> versions = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                select api_id, version, status, deprecated_at, sunset_at, successor
                from api_version order by api_id, version""");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                versions.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>())
                        .add(new Api.ApiVersion(
                                rs.getString(2),
                                Api.Status.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)),
                                instant(rs.getTimestamp(4)),
                                instant(rs.getTimestamp(5)),
                                Optional.ofNullable(rs.getString(6))));
            }
        }
        List<Api> apis = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                        "select id, name, base_path, default_version, hostnames from api order by name");
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                apis.add(new Api(
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        strings(rs.getArray(5)),
                        versions.getOrDefault(rs.getLong(1), List.of())));
            }
        }
        List<Route> routes = routes(c, Optional.empty());
        return new GatewayConfig(groups, upstreams, apis, routes);
    }

    /** The draft's routes as every read takes them ({@code %s}: more conditions), and their order. */
    private static final String ENABLED_ROUTES = """
            from route r
            join gateway_group g on g.id = r.group_id
            join api_version v on v.id = r.api_version_id
            join api a on a.id = v.api_id
            where r.enabled %s""";

    private static final String IN_ORDER = " order by g.name, r.priority, r.name";

    /** Selects the routes named by {@link #keys}: their group's name and their own, pairwise. */
    private static final String ROUTE_KEYS = "(g.name, r.name) in (select * from unnest(?::text[], ?::text[]))";

    private static void keys(PreparedStatement ps, Optional<List<Route>> only) throws SQLException {
        if (only.isPresent()) {
            Connection c = ps.getConnection();
            ps.setArray(
                    1,
                    c.createArrayOf(
                            "text", only.get().stream().map(Route::group).toArray()));
            ps.setArray(
                    2,
                    c.createArrayOf("text", only.get().stream().map(Route::name).toArray()));
        }
    }

    /** The draft's enabled routes in its order, or only those with the group and name of one in {@code only}. */
    private static List<Route> routes(Connection c, Optional<List<Route>> only) throws SQLException {
        Map<Long, List<Route.Destination>> destinations = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("""
                select d.route_id, u.name, d.weight from route_destination d join upstream u on u.id = d.upstream_id
                %s
                order by d.route_id, u.name""".formatted(
                        only.isEmpty()
                                ? ""
                                : "join route r on r.id = d.route_id join gateway_group g on g.id = r.group_id where "
                                        + ROUTE_KEYS))) {
            keys(ps, only);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    destinations
                            .computeIfAbsent(rs.getLong(1), k -> new ArrayList<>())
                            .add(new Route.Destination(rs.getString(2), rs.getInt(3)));
                }
            }
        }
        List<Route> routes = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                """
                select r.id, r.name, g.name, a.name, v.version, r.path_match_type, r.path, r.methods, r.header_matches,
                       r.timeout_ms, r.idle_timeout_ms, r.streaming, r.retry_attempts, r.retry_on,
                       r.retry_per_try_timeout_ms, r.retry_backoff_base_ms, r.retry_backoff_max_ms,
                       r.request_headers_to_add, r.request_headers_to_remove, r.response_headers_to_add,
                       r.authz_profile, r.dlp_profile
                """ + ENABLED_ROUTES.formatted(only.isEmpty() ? "" : "and " + ROUTE_KEYS) + IN_ORDER)) {
            keys(ps, only);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String type = rs.getString(6);
                    String path = rs.getString(7);
                    Route.Match match = new Route.Match(
                            type.equals("prefix") ? Optional.of(path) : Optional.empty(),
                            type.equals("exact") ? Optional.of(path) : Optional.empty(),
                            type.equals("regex") ? Optional.of(path) : Optional.empty(),
                            strings(rs.getArray(8)),
                            jsonList(rs.getString(9), HEADER_MATCHES));
                    int attempts = rs.getInt(13);
                    Optional<Route.Retry> retry = attempts == 0
                            ? Optional.empty()
                            : Optional.of(new Route.Retry(
                                    attempts, rs.getString(14), optionalLong(rs, 15), rs.getInt(16), rs.getInt(17)));
                    routes.add(new Route(
                            rs.getString(2),
                            rs.getString(3),
                            rs.getString(4),
                            rs.getString(5),
                            match,
                            destinations.getOrDefault(rs.getLong(1), List.of()),
                            optionalLong(rs, 10),
                            optionalLong(rs, 11),
                            rs.getBoolean(12),
                            retry,
                            jsonList(rs.getString(18), HEADER_VALUES),
                            strings(rs.getArray(19)),
                            jsonList(rs.getString(20), HEADER_VALUES),
                            rs.getString(21),
                            rs.getString(22),
                            Optional.empty()));
                }
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new SQLException("unreadable JSON column in route: " + e.getOriginalMessage(), e);
        }
        return routes;
    }

    // ------------------------------------------------------------------ writing

    private static void upsertGroup(Connection c, GatewayGroup g) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                insert into gateway_group (name, environment, region, domain, hostnames, hostname_template,
                                           listener_port, proxyless_authz, cors, api_cors, template_kind)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?)
                on conflict (name) do update set environment = excluded.environment, region = excluded.region,
                    domain = excluded.domain, hostnames = excluded.hostnames,
                    hostname_template = excluded.hostname_template, listener_port = excluded.listener_port,
                    proxyless_authz = excluded.proxyless_authz, cors = excluded.cors, api_cors = excluded.api_cors,
                    template_kind = excluded.template_kind, updated_at = now()""")) {
            ps.setString(1, g.name());
            ps.setString(2, g.environment());
            ps.setString(3, g.region());
            ps.setString(4, g.domain().orElse(null));
            ps.setArray(5, c.createArrayOf("varchar", g.hostnames().toArray()));
            ps.setString(6, g.hostnameTemplate());
            ps.setInt(7, g.listenerPort());
            ps.setString(8, lower(g.proxylessAuthz()));
            ps.setString(9, g.cors().map(ConfigJson::write).orElse(null));
            ps.setString(10, ConfigJson.write(g.apiCors()));
            ps.setString(11, g.templateKind().wire());
            ps.executeUpdate();
        }
    }

    private static void upsertUpstream(Connection c, Upstream u) throws SQLException {
        long id;
        try (PreparedStatement ps = c.prepareStatement("""
                insert into upstream (name, protocol, lb_policy, connect_timeout_ms, health_check, circuit_breakers,
                                      outlier_detection, tls, address_exceptions, host)
                values (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?::jsonb, ?::jsonb, ?)
                on conflict (name) do update set protocol = excluded.protocol, lb_policy = excluded.lb_policy,
                    connect_timeout_ms = excluded.connect_timeout_ms, health_check = excluded.health_check,
                    circuit_breakers = excluded.circuit_breakers, outlier_detection = excluded.outlier_detection,
                    tls = excluded.tls, address_exceptions = excluded.address_exceptions, host = excluded.host,
                    updated_at = now()
                returning id""")) {
            ps.setString(1, u.name());
            ps.setString(2, lower(u.protocol()));
            ps.setString(3, lower(u.lbPolicy()));
            ps.setLong(4, u.connectTimeoutMs());
            ps.setString(5, u.healthCheck().map(ConfigJson::write).orElse(null));
            ps.setString(6, u.circuitBreaker().map(ConfigJson::write).orElse(null));
            ps.setString(7, u.outlierDetection().map(ConfigJson::write).orElse(null));
            ps.setString(8, u.tls().map(ConfigJson::write).orElse(null));
            ps.setString(9, ConfigJson.write(u.addressExceptions()));
            ps.setString(10, u.host().orElse(null));
            id = returningId(ps);
        }
        exec(c, "delete from upstream_endpoint where upstream_id = ?", id);
        for (Upstream.Endpoint e : u.endpoints()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into upstream_endpoint (upstream_id, host, port, weight) values (?, ?, ?, ?)")) {
                ps.setLong(1, id);
                ps.setString(2, e.address());
                ps.setInt(3, e.port());
                ps.setInt(4, e.weight());
                ps.executeUpdate();
            }
        }
    }

    private static void upsertApi(Connection c, Api a) throws SQLException {
        long id;
        try (PreparedStatement ps = c.prepareStatement("""
                insert into api (name, base_path, hostnames) values (?, ?, ?)
                on conflict (name) do update set base_path = excluded.base_path, hostnames = excluded.hostnames,
                    default_version = null, updated_at = now()
                returning id""")) {
            ps.setString(1, a.name());
            ps.setString(2, a.basePath());
            ps.setArray(3, c.createArrayOf("varchar", a.hostnames().toArray()));
            id = returningId(ps);
        }
        // successors reference versions of the same API: insert all, then link
        exec(c, "update api_version set successor = null where api_id = ?", id);
        List<String> keep = a.versions().stream().map(Api.ApiVersion::version).toList();
        try (PreparedStatement ps =
                c.prepareStatement("delete from api_version where api_id = ? and not (version = any (?))")) {
            ps.setLong(1, id);
            ps.setArray(2, c.createArrayOf("varchar", keep.toArray()));
            ps.executeUpdate();
        }
        for (Api.ApiVersion v : a.versions()) {
            try (PreparedStatement ps = c.prepareStatement("""
                    insert into api_version (api_id, version, status, deprecated_at, sunset_at) values (?, ?, ?, ?, ?)
                    on conflict (api_id, version) do update set status = excluded.status,
                        deprecated_at = excluded.deprecated_at, sunset_at = excluded.sunset_at, updated_at = now()""")) {
                ps.setLong(1, id);
                ps.setString(2, v.version());
                ps.setString(3, lower(v.status()));
                ps.setTimestamp(4, v.deprecatedAt().map(Timestamp::from).orElse(null));
                ps.setTimestamp(5, v.sunsetAt().map(Timestamp::from).orElse(null));
                ps.executeUpdate();
            }
        }
        for (Api.ApiVersion v : a.versions()) {
            if (v.successor().isPresent()) {
                try (PreparedStatement ps =
                        c.prepareStatement("update api_version set successor = ? where api_id = ? and version = ?")) {
                    ps.setString(1, v.successor().get());
                    ps.setLong(2, id);
                    ps.setString(3, v.version());
                    ps.executeUpdate();
                }
            }
        }
        if (a.version(a.defaultVersion()).isPresent()) {
            try (PreparedStatement ps = c.prepareStatement("update api set default_version = ? where id = ?")) {
                ps.setString(1, a.defaultVersion());
                ps.setLong(2, id);
                ps.executeUpdate();
            }
        }
    }

    private static void upsertRoute(Connection c, Route r) throws SQLException {
        Route.Match m = r.match();
        String type = m.pathExact().isPresent() ? "exact" : m.pathRegex().isPresent() ? "regex" : "prefix";
        String path = m.pathExact().or(m::pathRegex).or(m::pathPrefix).orElse("");
        long id;
        try (PreparedStatement ps = c.prepareStatement("""
                insert into route (group_id, api_version_id, name, path_match_type, path, methods, header_matches,
                                   timeout_ms, idle_timeout_ms, streaming, retry_attempts, retry_on,
                                   retry_per_try_timeout_ms, retry_backoff_base_ms, retry_backoff_max_ms,
                                   request_headers_to_add, request_headers_to_remove, response_headers_to_add,
                                   authz_profile, dlp_profile)
                values ((select id from gateway_group where name = ?),
                        (select v.id from api_version v join api a on a.id = v.api_id where a.name = ? and v.version = ?),
                        ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?::jsonb, ?, ?)
                on conflict (group_id, name) do update set api_version_id = excluded.api_version_id,
                    path_match_type = excluded.path_match_type, path = excluded.path, methods = excluded.methods,
                    header_matches = excluded.header_matches, timeout_ms = excluded.timeout_ms,
                    idle_timeout_ms = excluded.idle_timeout_ms, streaming = excluded.streaming,
                    retry_attempts = excluded.retry_attempts, retry_on = excluded.retry_on,
                    retry_per_try_timeout_ms = excluded.retry_per_try_timeout_ms,
                    retry_backoff_base_ms = excluded.retry_backoff_base_ms,
                    retry_backoff_max_ms = excluded.retry_backoff_max_ms,
                    request_headers_to_add = excluded.request_headers_to_add,
                    request_headers_to_remove = excluded.request_headers_to_remove,
                    response_headers_to_add = excluded.response_headers_to_add,
                    authz_profile = excluded.authz_profile, dlp_profile = excluded.dlp_profile, enabled = true,
                    updated_at = now()
                returning id""")) {
            int i = 1;
            ps.setString(i++, r.group());
            ps.setString(i++, r.api());
            ps.setString(i++, r.version());
            ps.setString(i++, r.name());
            ps.setString(i++, type);
            ps.setString(i++, path);
            ps.setArray(i++, c.createArrayOf("varchar", m.methods().toArray()));
            ps.setString(i++, ConfigJson.write(m.headers()));
            setLong(ps, i++, r.timeoutMs());
            setLong(ps, i++, r.idleTimeoutMs());
            ps.setBoolean(i++, r.streaming());
            ps.setInt(i++, r.retry().map(Route.Retry::attempts).orElse(0));
            ps.setString(i++, r.retry().map(Route.Retry::retryOn).orElse(null));
            setLong(ps, i++, r.retry().flatMap(Route.Retry::perTryTimeoutMs));
            setLong(ps, i++, r.retry().map(Route.Retry::backoffBaseMs));
            setLong(ps, i++, r.retry().map(Route.Retry::backoffMaxMs));
            ps.setString(i++, ConfigJson.write(r.requestHeadersToAdd()));
            ps.setArray(
                    i++, c.createArrayOf("varchar", r.requestHeadersToRemove().toArray()));
            ps.setString(i++, ConfigJson.write(r.responseHeadersToAdd()));
            ps.setString(i++, r.authzProfile());
            ps.setString(i, r.dlpProfile());
            id = returningId(ps);
        }
        exec(c, "delete from route_destination where route_id = ?", id);
        for (Route.Destination d : r.destinations()) {
            try (PreparedStatement ps = c.prepareStatement("""
                    insert into route_destination (route_id, upstream_id, weight)
                    values (?, (select id from upstream where name = ?), ?)""")) {
                ps.setLong(1, id);
                ps.setString(2, d.upstream());
                ps.setInt(3, d.weight());
                ps.executeUpdate();
            }
        }
    }

    private static void deleteRoute(Connection c, String group, String name) throws SQLException {
        exec(
                c,
                "delete from route where name = ? and group_id = (select id from gateway_group where name = ?)",
                name,
                group);
    }

    private static void deleteGroup(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                select count(*) from config_revision r join gateway_group g on g.id = r.group_id where g.name = ?""")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    throw new StoreException(
                            "group '" + name + "' has published revisions and cannot be deleted; "
                                    + "remove its routes and publish instead",
                            null);
                }
            }
        }
        exec(c, "delete from gateway_group where name = ?", name);
    }

    // ------------------------------------------------------------------ helpers

    private static final TypeReference<List<Route.HeaderMatch>> HEADER_MATCHES = new TypeReference<>() {};
    private static final TypeReference<List<Route.HeaderValue>> HEADER_VALUES = new TypeReference<>() {};

    /** A JSON array column; most routes' are empty, which needs no parser. */
    private static <T> List<T> jsonList(String json, TypeReference<List<T>> type)
            throws com.fasterxml.jackson.core.JsonProcessingException {
        return json.equals("[]") ? List.of() : JSON.readValue(json, type);
    }

    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T inTransaction(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("cannot write the gateway configuration: " + e.getMessage(), e);
        }
    }

    private static void exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        }
    }

    private static long returningId(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void setLong(PreparedStatement ps, int i, Optional<Long> v) throws SQLException {
        if (v.isPresent()) {
            ps.setLong(i, v.get());
        } else {
            ps.setNull(i, Types.INTEGER);
        }
    }

    private static Optional<Long> optionalLong(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? Optional.empty() : Optional.of(v);
    }

    private static List<String> strings(Array a) throws SQLException {
        if (a == null) {
            return List.of();
        }
        return List.of((String[]) a.getArray());
    }

    private static Optional<Instant> instant(Timestamp t) {
        return Optional.ofNullable(t).map(Timestamp::toInstant);
    }

    private static <T> Optional<T> json(String text, Class<T> type) {
        return text == null ? Optional.empty() : Optional.of(ConfigJson.read(text, type));
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
