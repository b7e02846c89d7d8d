package io.meshguard.catalog.apikey;

import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/** {@link ApiKeyStore} on the {@code api_keys} table (created by {@code db}'s {@code V1__baseline.sql}). */
public final class JdbcApiKeyStore implements ApiKeyStore {
    private static final String COLUMNS =
            "key_id, secret_sha256, name, owner, tenant, roles, scopes, tier, created_at, "
                    + "expires_at, revoked_at, rotated_from, last_used_at, use_count";
    private static final String REVOKE = "UPDATE api_keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL";
    private static final String REVOKE_PREDECESSORS = "WITH RECURSIVE line(key_id, rotated_from) AS ("
            + "SELECT key_id, rotated_from FROM api_keys WHERE key_id = ? UNION "
            + "SELECT k.key_id, k.rotated_from FROM api_keys k JOIN line l ON k.key_id = l.rotated_from) "
            + "UPDATE api_keys SET revoked_at = ? WHERE key_id IN (SELECT rotated_from FROM line) "
            + "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)";
    private static final String EXPIRE =
            "UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, ?), ?) WHERE key_id = ?";
    private final DataSource dataSource;

    /** The database the keys live in (the admin trail of their changes is written there too). */
    public DataSource dataSource() {
        return dataSource;
    }

    public JdbcApiKeyStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public Optional<Stored> find(String keyId) throws UnavailableException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("SELECT " + COLUMNS + " FROM api_keys WHERE key_id = ?")) {
            s.setString(1, keyId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(new Stored(row(rs), rs.getBytes("secret_sha256"))) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new UnavailableException("API key lookup failed: " + e.getMessage(), e);
        }
    }

    @Override
    public Map<String, Stored> findAll(java.util.Collection<String> keyIds) throws UnavailableException {
        Map<String, Stored> found = new java.util.HashMap<>();
        if (keyIds.isEmpty()) {
            return found;
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement s =
                        c.prepareStatement("SELECT " + COLUMNS + " FROM api_keys WHERE key_id = ANY (?)")) {
            s.setArray(1, c.createArrayOf("text", keyIds.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getString("key_id"), new Stored(row(rs), rs.getBytes("secret_sha256")));
                }
            }
            return found;
        } catch (SQLException e) {
            throw new UnavailableException("API key lookup failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void insert(ApiKey key, byte[] secretHash) throws UnavailableException {
        try (Connection c = dataSource.getConnection()) {
            insert(c, key, secretHash);
        } catch (SQLException e) {
            throw new UnavailableException("API key insert failed: " + e.getMessage(), e);
        }
    }

    /**
     * Inserts a new key when {@code limits} admit one more for its tenant: counted and inserted in one transaction
     * under the tenant's lock ({@link #tenantKeys}), so concurrent creations on any replica cannot pass the limit
     * together.
     *
     * @throws io.meshguard.catalog.service.OperationRefused when the tenant is at a limit (nothing is inserted)
     */
    public void insert(ApiKey key, byte[] secretHash, ApiKeyLimits limits) throws UnavailableException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                limits.admit(key.tenant(), tenantKeys(c, key.tenant(), key.createdAt()));
                insert(c, key, secretHash);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new UnavailableException("API key insert failed: " + e.getMessage(), e);
        }
    }

    /** A tenant's keys as its limits count them: those that still work, and those created (not rotated) lately. */
    public record TenantKeys(long live, long createdLastHour) {}

    /**
     * Takes the tenant's key-creation lock for the rest of {@code c}'s transaction (one creation per tenant at a time,
     * on every replica) and counts its keys at {@code now}.
     */
    public TenantKeys tenantKeys(Connection c, String tenant, Instant now) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
            s.setString(1, "meshguard_apikey_create:" + tenant);
            s.execute();
        }
        try (PreparedStatement s = c.prepareStatement("SELECT"
                + " count(*) FILTER (WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)),"
                + " count(*) FILTER (WHERE rotated_from IS NULL AND created_at > ?)"
                + " FROM api_keys WHERE tenant = ?")) {
            s.setTimestamp(1, Timestamp.from(now));
            s.setTimestamp(2, Timestamp.from(now.minus(java.time.Duration.ofHours(1))));
            s.setString(3, tenant);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return new TenantKeys(rs.getLong(1), rs.getLong(2));
            }
        }
    }

    /**
     * Inserts on {@code c}, inside the caller's transaction: the catalogue binds the key to its application in the
     * same one, so a refused binding leaves no key behind.
     */
    public void insert(Connection c, ApiKey key, byte[] secretHash) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO api_keys (key_id, secret_sha256, name, owner, tenant, "
                        + "roles, scopes, tier, created_at, expires_at, rotated_from) VALUES (?,?,?,?,?,?,?,?,?,?,?)")) {
            s.setString(1, key.keyId());
            s.setBytes(2, secretHash);
            s.setString(3, key.name());
            s.setString(4, key.owner());
            s.setString(5, key.tenant());
            s.setArray(6, c.createArrayOf("text", key.roles().toArray()));
            s.setArray(7, c.createArrayOf("text", key.scopes().toArray()));
            s.setString(8, key.tier());
            s.setTimestamp(9, Timestamp.from(key.createdAt()));
            s.setTimestamp(10, key.expiresAt().map(Timestamp::from).orElse(null));
            s.setString(11, key.rotatedFrom().orElse(null));
            s.executeUpdate();
        }
    }

    /** One key read on {@code c} (inside the caller's transaction, under its row-level security). */
    public Optional<ApiKey> find(Connection c, String keyId) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("SELECT " + COLUMNS + " FROM api_keys WHERE key_id = ? FOR UPDATE")) {
            s.setString(1, keyId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    /**
     * Rotates {@code keyId} in one transaction: the key is locked, checked ({@link ApiKeyService#successor}: not
     * revoked, not expired; here: not rotated out already), its successor inserted and its own end moved to {@code
     * predecessorUntil}. Two rotations of one key run one after the other, and the second is refused.
     *
     * @throws ApiKeyService.NotRotatable when the key is revoked, expired or rotated out
     * @throws java.util.NoSuchElementException when there is no such key
     */
    @Override
    public ApiKeyService.Created rotate(ApiKeyService keys, String keyId, Instant predecessorUntil)
            throws UnavailableException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                ApiKeyService.Minted next = rotate(c, keys, keyId, predecessorUntil);
                c.commit();
                return next.created();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new UnavailableException("API key rotation failed: " + e.getMessage(), e);
        }
    }

    /** {@link #rotate(ApiKeyService, String, Instant)} on {@code c}, inside the caller's transaction. */
    public ApiKeyService.Minted rotate(Connection c, ApiKeyService keys, String keyId, Instant predecessorUntil)
            throws SQLException {
        ApiKey old = find(c, keyId).orElseThrow(() -> new java.util.NoSuchElementException("no API key " + keyId));
        ApiKeyService.Minted next = keys.successor(old);
        Optional<String> successor = successorOf(c, keyId);
        if (successor.isPresent()) {
            // one line per grant: a rotated key's successor is the only key that may be rotated next, and a revoked
            // successor ends the line (rotating the predecessor again would undo the revocation)
            throw new ApiKeyService.NotRotatable("API key " + keyId + " was rotated out already (its successor is "
                    + successor.get() + "): rotate the successor, or ask for a new key");
        }
        insert(c, next.created().key(), next.secretHash());
        expire(c, keyId, predecessorUntil);
        return next;
    }

    private static Optional<String> successorOf(Connection c, String keyId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "SELECT key_id FROM api_keys WHERE rotated_from = ? ORDER BY created_at DESC LIMIT 1")) {
            s.setString(1, keyId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        }
    }

    /**
     * {@link #revoke(String, Instant)} on {@code c}, inside the caller's transaction. The key's predecessors still in
     * their rotation overlap are revoked with it: they work only so that clients can switch to this key, and a
     * revoked grant must not live on in them.
     */
    public boolean revoke(Connection c, String keyId, Instant at) throws SQLException {
        boolean revoked = update(c, REVOKE, at, keyId);
        try (PreparedStatement s = c.prepareStatement(REVOKE_PREDECESSORS)) {
            s.setString(1, keyId);
            s.setTimestamp(2, Timestamp.from(at));
            s.setTimestamp(3, Timestamp.from(at));
            s.executeUpdate();
        }
        return revoked;
    }

    /** {@link #expire(String, Instant)} on {@code c}, inside the caller's transaction. */
    public boolean expire(Connection c, String keyId, Instant at) throws SQLException {
        return update(c, EXPIRE, at, keyId);
    }

    @Override
    public boolean revoke(String keyId, Instant at) throws UnavailableException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                boolean revoked = revoke(c, keyId, at);
                c.commit();
                return revoked;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new UnavailableException("API key revocation failed: " + e.getMessage(), e);
        }
    }

    @Override
    public boolean expire(String keyId, Instant at) throws UnavailableException {
        return update(EXPIRE, at, keyId);
    }

    private boolean update(String sql, Instant at, String keyId) throws UnavailableException {
        try (Connection c = dataSource.getConnection()) {
            return update(c, sql, at, keyId);
        } catch (SQLException e) {
            throw new UnavailableException("API key update failed: " + e.getMessage(), e);
        }
    }

    private static boolean update(Connection c, String sql, Instant at, String keyId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            int i = 1;
            s.setTimestamp(i++, Timestamp.from(at));
            if (sql.contains("LEAST")) {
                s.setTimestamp(i++, Timestamp.from(at));
            }
            s.setString(i, keyId);
            return s.executeUpdate() == 1;
        }
    }

    @Override
    public List<ApiKey> list(boolean includeRevoked) throws UnavailableException {
        String sql = "SELECT " + COLUMNS + " FROM api_keys" + (includeRevoked ? "" : " WHERE revoked_at IS NULL")
                + " ORDER BY tenant, owner, created_at";
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(sql);
                ResultSet rs = s.executeQuery()) {
            List<ApiKey> out = new ArrayList<>();
            while (rs.next()) {
                out.add(row(rs));
            }
            return out;
        } catch (SQLException e) {
            throw new UnavailableException("API key listing failed: " + e.getMessage(), e);
        }
    }

    /**
     * The keys of {@code scope}'s tenants, read in a transaction PostgreSQL confines to them (row-level security,
     * migration V35): another tenant's key is absent whatever the query says.
     */
    public List<ApiKey> list(TenantScope scope, boolean includeRevoked) throws UnavailableException {
        String sql = "SELECT " + COLUMNS + " FROM api_keys" + (includeRevoked ? "" : " WHERE revoked_at IS NULL")
                + " ORDER BY tenant, owner, created_at";
        try {
            return new TenantScopedTransactions(dataSource).inScope(scope, c -> {
                List<ApiKey> out = new ArrayList<>();
                try (PreparedStatement s = c.prepareStatement(sql);
                        ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        ApiKey key = row(rs);
                        if (scope.includes(key.tenant())) {
                            out.add(key);
                        }
                    }
                }
                return out;
            });
        } catch (SQLException e) {
            throw new UnavailableException("API key listing failed: " + e.getMessage(), e);
        }
    }

    /** One key, if it belongs to one of {@code scope}'s tenants (read as {@link #list(TenantScope, boolean)} reads). */
    public Optional<ApiKey> find(TenantScope scope, String keyId) throws UnavailableException {
        try {
            return new TenantScopedTransactions(dataSource).inScope(scope, c -> {
                try (PreparedStatement s =
                        c.prepareStatement("SELECT " + COLUMNS + " FROM api_keys WHERE key_id = ?")) {
                    s.setString(1, keyId);
                    try (ResultSet rs = s.executeQuery()) {
                        return rs.next()
                                ? Optional.of(row(rs)).filter(k -> scope.includes(k.tenant()))
                                : Optional.empty();
                    }
                }
            });
        } catch (SQLException e) {
            throw new UnavailableException("API key lookup failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void addUsage(Map<String, Usage> usesByKeyId) throws UnavailableException {
        if (usesByKeyId.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("UPDATE api_keys SET use_count = use_count + ?, "
                        + "last_used_at = GREATEST(COALESCE(last_used_at, ?), ?) WHERE key_id = ?")) {
            for (Map.Entry<String, Usage> e : usesByKeyId.entrySet()) {
                s.setLong(1, e.getValue().count());
                s.setTimestamp(2, Timestamp.from(e.getValue().lastUsed()));
                s.setTimestamp(3, Timestamp.from(e.getValue().lastUsed()));
                s.setString(4, e.getKey());
                s.addBatch();
            }
            s.executeBatch();
        } catch (SQLException e) {
            throw new UnavailableException("API key usage update failed: " + e.getMessage(), e);
        }
    }

    private static ApiKey row(ResultSet rs) throws SQLException {
        return new ApiKey(
                rs.getString("key_id"),
                rs.getString("name"),
                rs.getString("owner"),
                rs.getString("tenant"),
                strings(rs.getArray("roles")),
                strings(rs.getArray("scopes")),
                rs.getString("tier"),
                rs.getTimestamp("created_at").toInstant(),
                instant(rs.getTimestamp("expires_at")),
                instant(rs.getTimestamp("revoked_at")),
                Optional.ofNullable(rs.getString("rotated_from")),
                instant(rs.getTimestamp("last_used_at")),
                rs.getLong("use_count"));
    }

    private static List<String> strings(Array array) throws SQLException {
        return array == null ? List.of() : List.copyOf(Arrays.asList((String[]) array.getArray()));
    }

    private static Optional<Instant> instant(Timestamp t) {
        return Optional.ofNullable(t).map(Timestamp::toInstant);
    }
}
