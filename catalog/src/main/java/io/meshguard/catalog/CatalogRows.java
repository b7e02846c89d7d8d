package io.meshguard.catalog;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.AuthMethod;
import io.meshguard.access.Person;
import io.meshguard.catalog.CatalogStore.Side;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.db.TenantScope;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Reading and writing catalogue rows: the row readers every store shares, small query helpers, and PostgreSQL's
 * errors said in words ({@link #translate}).
 */
final class CatalogRows {
    static final ObjectMapper JSON = new ObjectMapper();

    private CatalogRows() {}

    static List<Credential> credentialsIn(Connection c) throws SQLException {
        List<Credential> out = new ArrayList<>();
        for (String[] k : rows(c, "select kind, id from credential order by kind, id")) {
            readCredential(c, AuthMode.valueOf(k[0].toUpperCase(Locale.ROOT)), k[1])
                    .ifPresent(out::add);
        }
        return out;
    }

    static Optional<Product> readProduct(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, tenant, name, version, description, tags, docs_url,"
                + " visibility, state from product where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Product(
                        rs.getString(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        Optional.ofNullable(rs.getString(5)),
                        Arrays.asList(strings(rs.getArray(6))),
                        Optional.ofNullable(rs.getString(7)),
                        upper(Product.Visibility.class, rs.getString(8)),
                        upper(ProductState.class, rs.getString(9)),
                        readOperations(c, id)));
            }
        }
    }

    static List<Product.Operation> readOperations(Connection c, String productId) throws SQLException {
        List<Product.Operation> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select o.id, a.name, o.method, o.path from product_operation o"
                + " join api a on a.id = o.api_id where o.product_id = ? order by o.id")) {
            ps.setString(1, productId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Product.Operation(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
        }
        return out;
    }

    static void writeOperations(Connection c, String productId, List<Product.Operation> operations)
            throws SQLException {
        for (Product.Operation op : operations) {
            // the API is looked up under the caller's scope: another tenant's API is as absent as a missing one
            List<String> api = strings(
                    c,
                    "select a.id::text from api a join product p on p.tenant = a.tenant"
                            + " where a.name = ? and p.id = ?",
                    op.api(),
                    productId);
            if (api.isEmpty()) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.INVALID,
                        "operation " + op.id() + ": API " + op.api() + " not found in the product's tenant");
            }
            try (PreparedStatement ps = c.prepareStatement("insert into product_operation (product_id, id, api_id,"
                    + " method, path) values (?, ?, ?, ?, ?)")) {
                ps.setString(1, productId);
                ps.setString(2, op.id());
                ps.setLong(3, Long.parseLong(api.get(0)));
                ps.setString(4, op.method());
                ps.setString(5, op.path());
                ps.executeUpdate();
            }
        }
    }

    static Optional<Plan> readPlan(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, product_id, name, state, limits::text,"
                + " operation_limits::text, approval, auth_modes from plan where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Set<AuthMode> modes = EnumSet.noneOf(AuthMode.class);
                for (String m : strings(rs.getArray(8))) {
                    modes.add(upper(AuthMode.class, m));
                }
                try {
                    return Optional.of(new Plan(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getString(3),
                            upper(PlanState.class, rs.getString(4)),
                            PlanLimitsJson.parse(JSON.readTree(rs.getString(5)), "plan " + id + " limits"),
                            PlanLimitsJson.parseOperations(JSON.readTree(rs.getString(6)), "plan " + id),
                            upper(Plan.Approval.class, rs.getString(7)),
                            modes));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new SQLException("plan " + id + ": stored limits are not JSON", e);
                }
            }
        }
    }

    static Optional<ProductPublish> readPublish(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, product_id, cluster_id, environment, auth_mode,"
                + " state, host from product_publish where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(publish(rs));
            }
        }
    }

    /** A publish from columns 1 to 7: id, product_id, cluster_id, environment, auth_mode, state, host. */
    static ProductPublish publish(ResultSet rs) throws SQLException {
        return new ProductPublish(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                upper(Environment.class, rs.getString(4)),
                upper(AuthMode.class, rs.getString(5)),
                upper(PublishState.class, rs.getString(6)),
                new PublishHost(rs.getString(7)));
    }

    static Optional<Application> readApplication(Connection c, String id) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("select id, tenant, name, state from application where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new Application(
                                rs.getString(1),
                                rs.getString(2),
                                rs.getString(3),
                                upper(ApplicationState.class, rs.getString(4))))
                        : Optional.empty();
            }
        }
    }

    static Optional<Subscription> readSubscription(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "select id, application_id, publish_id, plan_id, state" + " from subscription where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next()
                        ? Optional.of(new Subscription(
                                rs.getString(1),
                                rs.getString(2),
                                rs.getString(3),
                                rs.getString(4),
                                upper(SubscriptionState.class, rs.getString(5))))
                        : Optional.empty();
            }
        }
    }

    static Optional<Credential> readCredential(Connection c, AuthMode kind, String id) throws SQLException {
        return readCredential(c, kind, id, false);
    }

    static Optional<Credential> readCredential(Connection c, AuthMode kind, String id, boolean lock)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, application_id, state, expires_at, overlap_ends_at"
                + " from credential where kind = ? and id = ?" + (lock ? " for update" : ""))) {
            ps.setString(1, lower(kind));
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Credential cr = new Credential(
                        rs.getString(1),
                        kind,
                        rs.getString(2),
                        upper(CredentialState.class, rs.getString(3)),
                        Optional.ofNullable(rs.getTimestamp(4)).map(Timestamp::toInstant),
                        Optional.ofNullable(rs.getTimestamp(5)).map(Timestamp::toInstant),
                        Set.copyOf(strings(
                                c,
                                "select subscription_id from credential_subscription"
                                        + " where kind = ? and credential_id = ?",
                                lower(kind),
                                id)));
                return Optional.of(cr);
            }
        }
    }

    static Product ownProductForUpdate(Connection c, String productId) throws SQLException {
        // "for update" only returns rows the scope may change (the catalogue policy is select-only), so another
        // tenant's published product is as absent here as a missing one
        if (strings(c, "select id from product where id = ? for update", productId)
                .isEmpty()) {
            throw CatalogRefusal.notFound("product", productId);
        }
        return readProduct(c, productId).orElseThrow();
    }

    static Application lockApplication(Connection c, String id) throws SQLException {
        if (strings(c, "select id from application where id = ? for update", id).isEmpty()) {
            throw CatalogRefusal.notFound("application", id);
        }
        return readApplication(c, id).orElseThrow();
    }

    /** Whether {@code person} asked for subscription {@code id} (by subject; by name for rows kept before V61). */
    static boolean askedBy(Connection c, String id, Person person) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("select requested_by, requested_by_person from subscription" + " where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                String subject = rs.getString(2);
                return subject == null ? person.name().equals(rs.getString(1)) : subject.equals(person.id());
            }
        }
    }

    /** A person known by name only: the token file's names, tests and benches. */
    static Person byName(String actor) {
        return new Person("token " + actor, actor, AuthMethod.LOCAL);
    }

    static Subscription lockSubscription(Connection c, String id, TenantScope scope, Side side) throws SQLException {
        return sideOf(c, id, scope, side, " for update");
    }

    static Subscription lockSubscriptionShared(Connection c, String id, TenantScope scope, Side side)
            throws SQLException {
        return sideOf(c, id, scope, side, "");
    }

    static Subscription sideOf(Connection c, String id, TenantScope scope, Side side, String lock) throws SQLException {
        List<String> tenant = strings(
                c,
                "select " + (side == Side.PROVIDER ? "provider_tenant" : "customer_tenant")
                        + " from subscription where id = ?" + lock,
                id);
        // the other side's view of the row is not enough: it answers as if the subscription did not exist
        if (tenant.isEmpty() || !scope.includes(tenant.get(0))) {
            throw CatalogRefusal.notFound("subscription", id);
        }
        return readSubscription(c, id).orElseThrow();
    }

    static void setState(Connection c, String table, String where, String state, String id) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("update " + table + " set state = ?, updated_at = now() where " + where)) {
            ps.setString(1, state);
            ps.setString(2, id);
            if (ps.executeUpdate() != 1) {
                throw CatalogRefusal.notFound(table.replace('_', ' '), id);
            }
        }
    }

    static void touch(Connection c, String table, String id, String actor) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("update " + table + " set updated_by = ?, updated_at = now()" + " where id = ?")) {
            ps.setString(1, actor);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    static long count(Connection c, String sql, String... args) throws SQLException {
        return Long.parseLong(strings(c, sql, args).get(0));
    }

    static List<String> ids(Connection c, String sql, String... args) throws SQLException {
        return strings(c, sql, args);
    }

    static List<String> strings(Connection c, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    static List<String[]> rows(Connection c, String sql) throws SQLException {
        List<String[]> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                String[] row = new String[n];
                for (int i = 0; i < n; i++) {
                    row[i] = rs.getString(i + 1);
                }
                out.add(row);
            }
        }
        return out;
    }

    static String[] strings(Array array) throws SQLException {
        return array == null ? new String[0] : (String[]) array.getArray();
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    static <E extends Enum<E>> E upper(Class<E> type, String name) {
        return Enum.valueOf(type, name.toUpperCase(Locale.ROOT));
    }

    // PostgreSQL's SQLSTATEs: a unique key means the object exists, a foreign key that a named object does not (or is
    // another tenant's), a check or row-level-security refusal that the row is not the caller's to write.
    static RuntimeException translate(SQLException e) {
        String state = Optional.ofNullable(e.getSQLState()).orElse("");
        return switch (state) {
            case "23505" -> duplicate(e);
            case "23503" -> missingReference(e);
            case "23514" -> badValue(e);
            case "22001" ->
                new CatalogRefusal(
                        CatalogRefusal.Kind.INVALID,
                        "a value is longer than its field allows"
                                + LENGTH.matcher(detail(e))
                                        .results()
                                        .map(r -> " (" + r.group(1) + " characters)")
                                        .findFirst()
                                        .orElse(""));
            case "42501" -> new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "not found");
            default -> new IllegalStateException("catalogue store: " + e.getMessage(), e);
        };
    }

    // PostgreSQL's foreign-key message names the referenced table (Detail: Key (col)=(value) is not present in table
    // "t"); the value is left out when the row's table has row-level security, as the catalogue's have. Said in
    // words, never as SQL. Tenants are checked before each insert that names one (requireTenant), so this is the
    // fallback for a tenant deleted in between and for other references.
    static final java.util.regex.Pattern MISSING_KEY =
            java.util.regex.Pattern.compile("Key (?:\\([a-z_]+\\)=\\((.*)\\) )?is not present in table \"([a-z_]+)\"");

    static CatalogRefusal missingReference(SQLException e) {
        java.util.regex.Matcher m =
                MISSING_KEY.matcher(Optional.ofNullable(e.getMessage()).orElse(""));
        if (!m.find()) {
            return new CatalogRefusal(CatalogRefusal.Kind.INVALID, "names an object that does not exist");
        }
        String table = m.group(2).replace('_', ' ');
        if (m.group(1) == null) {
            return new CatalogRefusal(CatalogRefusal.Kind.INVALID, "names a " + table + " that does not exist");
        }
        return m.group(2).equals("tenant")
                ? Tenant.unknown(m.group(1))
                : new CatalogRefusal(CatalogRefusal.Kind.INVALID, table + " '" + m.group(1) + "' does not exist");
    }

    /** Refuses, in words, a row for a tenant the database does not have (before PostgreSQL's foreign key would). */
    static void requireTenant(Connection c, String tenant) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select 1 from tenant where id = ?")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw Tenant.unknown(tenant);
                }
            }
        }
    }

    static final java.util.regex.Pattern CONSTRAINT =
            java.util.regex.Pattern.compile("(?:relation \"([a-z_]+)\" violates check )?constraint \"([a-z_]+)\"");
    static final java.util.regex.Pattern DUPLICATE_KEY =
            java.util.regex.Pattern.compile("Key \\(([a-z_, ]+)\\)=\\((.*)\\) already exists");
    static final java.util.regex.Pattern LENGTH = java.util.regex.Pattern.compile("varying\\(([0-9]+)\\)");

    /** A unique constraint, in words: {@code product_pk} → "a product 'payments' already exists". */
    static CatalogRefusal duplicate(SQLException e) {
        String message = Optional.ofNullable(e.getMessage()).orElse("");
        java.util.regex.Matcher c = CONSTRAINT.matcher(message);
        if (message.contains("\"application_name_uk\"")) {
            return CatalogRefusal.applicationNameTakenMeanwhile();
        }
        String what =
                c.find() ? c.group(2).replaceFirst("_(pk|key|unique)$", "").replace('_', ' ') : "object";
        java.util.regex.Matcher k = DUPLICATE_KEY.matcher(message);
        return new CatalogRefusal(
                CatalogRefusal.Kind.CONFLICT,
                "a " + what + (k.find() ? " with " + k.group(1) + " '" + k.group(2) + "'" : " with that id")
                        + " already exists");
    }

    /** A check constraint, in words: {@code product_id_check} on relation product → "id: not allowed for a product". */
    static CatalogRefusal badValue(SQLException e) {
        java.util.regex.Matcher c =
                CONSTRAINT.matcher(Optional.ofNullable(e.getMessage()).orElse(""));
        if (!c.find() || c.group(1) == null) {
            return new CatalogRefusal(CatalogRefusal.Kind.INVALID, "a value is not allowed here");
        }
        String table = c.group(1);
        String field = c.group(2)
                .replaceFirst("^" + table + "_", "")
                .replaceFirst("_check$", "")
                .replace('_', ' ');
        return new CatalogRefusal(
                CatalogRefusal.Kind.INVALID, field + ": a value not allowed for a " + table.replace('_', ' '));
    }

    static String detail(SQLException e) {
        String m = Optional.ofNullable(e.getMessage()).orElse("");
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
