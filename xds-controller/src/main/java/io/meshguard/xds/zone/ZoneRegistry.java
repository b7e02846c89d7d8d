package io.meshguard.xds.zone;

import io.meshguard.xds.store.StoreException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import javax.sql.DataSource;

/**
 * Who may follow central as a cluster's zone (V49): one-time registration tokens, the short-lived credentials they are
 * exchanged for, revocation, and the gateway groups each cluster serves. Secrets are kept only as SHA-256 digests.
 * A cluster may run several zone replicas (V67): each registration token starts one replica's credential lineage, and
 * each replica holds one live stream.
 */
public final class ZoneRegistry {
    /** The longest a registration token may live (single use, TTL at most 24 h). */
    public static final Duration MAX_TOKEN_TTL = Duration.ofHours(24);
    /** The longest a zone credential may live; it is rotated over the stream at half its lifetime. */
    public static final Duration MAX_CREDENTIAL_LIFETIME = Duration.ofHours(1);

    static final String TOKEN_PREFIX = "mgzr_";
    static final String CREDENTIAL_PREFIX = "mgzc_";

    /** A new registration token: shown once, to the operator who asked for it. */
    public record RegistrationToken(String cluster, String secret, Instant expiresAt) {}

    /** A zone credential. */
    public record Credential(String secret, Instant expiresAt) {
        String digest() {
            return ZoneSecrets.sha256(secret);
        }
    }

    /** Why an exchange or a credential was refused: a label of {@code meshguard_xds_zone_registration_failures_total}. */
    public enum Refusal {
        UNKNOWN,
        USED,
        EXPIRED,
        REVOKED,
        WRONG_CLUSTER,
        /** A credential presented under another replica's name than the one it was issued to. */
        WRONG_REPLICA
    }

    /** The outcome of presenting a registration token or a credential. */
    public sealed interface Admission permits Admitted, Refused {}

    /** @param credential the credential to present next time: new after a token exchange, else the one presented */
    public record Admitted(Credential credential) implements Admission {}

    public record Refused(Refusal reason) implements Admission {}

    /** What a cluster's zone serves: groups it runs, and groups withdrawn from it (told to the zone explicitly). */
    public record ClusterGroups(Set<String> serving, Set<String> withdrawn) {
        public ClusterGroups {
            serving = Set.copyOf(serving);
            withdrawn = Set.copyOf(withdrawn);
        }
    }

    private final DataSource dataSource;
    private final Clock clock;
    private final Duration credentialLifetime;

    /** @param credentialLifetime how long a zone credential lives (at most {@link #MAX_CREDENTIAL_LIFETIME}) */
    public ZoneRegistry(DataSource dataSource, Clock clock, Duration credentialLifetime) {
        if (credentialLifetime.isNegative()
                || credentialLifetime.isZero()
                || credentialLifetime.compareTo(MAX_CREDENTIAL_LIFETIME) > 0) {
            throw new IllegalArgumentException(
                    "a zone credential lives more than 0 and at most 1 h, not " + credentialLifetime);
        }
        this.dataSource = dataSource;
        this.clock = clock;
        this.credentialLifetime = credentialLifetime;
    }

    public Duration credentialLifetime() {
        return credentialLifetime;
    }

    /**
     * A one-time registration token for the cluster's zone; re-admits a revoked cluster.
     *
     * @throws IllegalArgumentException when {@code ttl} is not in (0, 24 h]
     * @throws java.util.NoSuchElementException when the cluster does not exist
     */
    public RegistrationToken issue(String cluster, Duration ttl, String actor) {
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TOKEN_TTL) > 0) {
            throw new IllegalArgumentException("a registration token lives more than 0 and at most 24 h, not " + ttl);
        }
        String secret = ZoneSecrets.generate(TOKEN_PREFIX);
        Instant expires = clock.instant().plus(ttl);
        transaction(c -> {
            if (revokedAt(c, cluster).isPresent()) {
                // re-admitted: the credentials of before the revocation stay dead
                try (PreparedStatement ps = c.prepareStatement("delete from zone_credential where cluster_id = ?")) {
                    ps.setString(1, cluster);
                    ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("update cluster set zone_revoked_at = null where id = ?")) {
                ps.setString(1, cluster);
                if (ps.executeUpdate() == 0) {
                    throw new java.util.NoSuchElementException("no cluster " + cluster);
                }
            }
            try (PreparedStatement ps = c.prepareStatement("insert into zone_registration (token_sha256, cluster_id,"
                    + " created_by, created_at, expires_at) values (?, ?, ?, ?, ?)")) {
                ps.setString(1, ZoneSecrets.sha256(secret));
                ps.setString(2, cluster);
                ps.setString(3, actor);
                ps.setTimestamp(4, Timestamp.from(clock.instant()));
                ps.setTimestamp(5, Timestamp.from(expires));
                ps.executeUpdate();
            }
            return null;
        });
        return new RegistrationToken(cluster, secret, expires);
    }

    /**
     * Exchanges a registration token for a credential of the cluster's replica {@code replica}, without spending the
     * token: the token is spent by the first hello that presents the credential ({@link #settle}), because only that
     * proves the zone received it. A zone whose stream ended before it read the answer (a slow first answer, a cut)
     * retries with the same token and gets a credential of its own; every unconfirmed credential of a token dies when
     * one of them is confirmed, so a token still starts at most one lineage. The token must be unspent, unexpired and
     * of this cluster, and the cluster not revoked.
     */
    public Admission exchange(String cluster, String replica, String token) {
        String digest = ZoneSecrets.sha256(token);
        Instant now = clock.instant();
        return transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("select r.cluster_id, r.used_at, r.expires_at,"
                    + " k.zone_revoked_at from zone_registration r join cluster k on k.id = r.cluster_id"
                    + " where r.token_sha256 = ? for share of r")) {
                ps.setString(1, digest);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return new Refused(Refusal.UNKNOWN);
                    }
                    if (!rs.getString(1).equals(cluster)) {
                        return new Refused(Refusal.WRONG_CLUSTER);
                    }
                    if (rs.getTimestamp(2) != null) {
                        return new Refused(Refusal.USED);
                    }
                    if (rs.getTimestamp(4) != null) {
                        return new Refused(Refusal.REVOKED);
                    }
                    if (!rs.getTimestamp(3).toInstant().isAfter(now)) {
                        return new Refused(Refusal.EXPIRED);
                    }
                }
            }
            return new Admitted(insertCredential(c, cluster, replica, Optional.of(digest)));
        });
    }

    /** {@link #exchange(String, String, String)} for a cluster's only, unnamed replica. */
    public Admission exchange(String cluster, String token) {
        return exchange(cluster, "", token);
    }

    /**
     * Checks a credential the replica presents when it opens a stream, and on every tick of an open one. A credential
     * is its replica's: presented under another replica's name it is refused ({@link Refusal#WRONG_REPLICA}), so a
     * copy cannot appear as a replica of its own. One from before V67 (no replica) is claimed by the first name it is
     * presented under.
     */
    public Admission verify(String cluster, String replica, String credential) {
        String digest = ZoneSecrets.sha256(credential);
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("update zone_credential set replica = ?"
                    + " where credential_sha256 = ? and cluster_id = ? and replica = ''")) {
                ps.setString(1, replica);
                ps.setString(2, digest);
                ps.setString(3, cluster);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("select z.cluster_id, z.expires_at, k.zone_revoked_at,"
                    + " z.replica from zone_credential z join cluster k on k.id = z.cluster_id"
                    + " where z.credential_sha256 = ?")) {
                ps.setString(1, digest);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return new Refused(Refusal.UNKNOWN);
                    }
                    if (!rs.getString(1).equals(cluster)) {
                        return new Refused(Refusal.WRONG_CLUSTER);
                    }
                    if (!rs.getString(4).equals(replica)) {
                        return new Refused(Refusal.WRONG_REPLICA);
                    }
                    if (rs.getTimestamp(3) != null) {
                        return new Refused(Refusal.REVOKED);
                    }
                    Instant expires = rs.getTimestamp(2).toInstant();
                    if (!expires.isAfter(clock.instant())) {
                        return new Refused(Refusal.EXPIRED);
                    }
                    return new Admitted(new Credential(credential, expires));
                }
            }
        } catch (SQLException e) {
            throw new StoreException("cannot check a zone credential", e);
        }
    }

    /** {@link #verify(String, String, String)} for a cluster's only, unnamed replica. */
    public Admission verify(String cluster, String credential) {
        return verify(cluster, "", credential);
    }

    /**
     * The replica opened a stream with {@code credential} (verified): settles its lineage in one transaction. A
     * credential from an unconfirmed exchange spends its token now — or, when another credential of the same token
     * was confirmed first, is deleted and refused as {@link Refusal#USED}; once confirmed, every other credential of
     * the replica (an older registration, the token's other unconfirmed exchanges) ends. A rotated credential ends
     * its predecessors, so a rotation leaves one lineage and a copy of an older credential stops working once the
     * zone uses the successor. Other replicas' lineages are untouched.
     *
     * @return the number of credentials that ended, or the refusal
     */
    public Settlement settle(String cluster, String replica, String credential) {
        String digest = ZoneSecrets.sha256(credential);
        return transaction(c -> {
            Optional<String> pending = Optional.empty();
            try (PreparedStatement ps = c.prepareStatement("select pending_token_sha256 from zone_credential"
                    + " where credential_sha256 = ? and cluster_id = ? and replica = ?")) {
                ps.setString(1, digest);
                ps.setString(2, cluster);
                ps.setString(3, replica);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return new Settlement(Optional.of(Refusal.UNKNOWN), 0);
                    }
                    pending = Optional.ofNullable(rs.getString(1));
                }
            }
            int ended = 0;
            if (pending.isPresent()) {
                // the token's row is the one lock: two uses of one token's credentials settle one after the other
                try (PreparedStatement ps = c.prepareStatement("update zone_registration set used_at = ?,"
                        + " used_by_replica = ? where token_sha256 = ? and used_at is null")) {
                    ps.setTimestamp(1, Timestamp.from(clock.instant()));
                    ps.setString(2, replica);
                    ps.setString(3, pending.get());
                    if (ps.executeUpdate() == 0) {
                        // another exchange of this token was confirmed first: this credential starts no lineage
                        delete(c, "delete from zone_credential where credential_sha256 = ?", digest);
                        return new Settlement(Optional.of(Refusal.USED), 0);
                    }
                }
                try (PreparedStatement ps = c.prepareStatement(
                        "update zone_credential set pending_token_sha256 =" + " null where credential_sha256 = ?")) {
                    ps.setString(1, digest);
                    ps.executeUpdate();
                }
                ended += delete(c, "delete from zone_credential where pending_token_sha256 = ?", pending.get());
                try (PreparedStatement ps = c.prepareStatement("delete from zone_credential where cluster_id = ?"
                        + " and replica = ? and credential_sha256 <> ? and pending_token_sha256 is null")) {
                    ps.setString(1, cluster);
                    ps.setString(2, replica);
                    ps.setString(3, digest);
                    ended += ps.executeUpdate();
                }
            } else {
                try (PreparedStatement ps = c.prepareStatement("delete from zone_credential where cluster_id = ?"
                        + " and replica = ? and pending_token_sha256 is null and created_at < (select created_at"
                        + " from zone_credential where credential_sha256 = ?)")) {
                    ps.setString(1, cluster);
                    ps.setString(2, replica);
                    ps.setString(3, digest);
                    ended += ps.executeUpdate();
                }
            }
            return new Settlement(Optional.empty(), ended);
        });
    }

    /**
     * What {@link #settle} did.
     *
     * @param refused why the credential starts no stream, when it does not
     * @param ended how many credentials of the replica ended
     */
    public record Settlement(Optional<Refusal> refused, int ended) {}

    /**
     * The replica's stream is now the caller's: the epoch a stream holds until another hello of the same replica
     * takes it (on any central replica). Replicas of one cluster each hold a stream of their own.
     */
    public long takeStream(String cluster, String replica) {
        return transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into zone_replica (cluster_id, replica,"
                    + " stream_epoch) values (?, ?, 1) on conflict (cluster_id, replica) do update set stream_epoch ="
                    + " zone_replica.stream_epoch + 1 returning stream_epoch")) {
                ps.setString(1, cluster);
                ps.setString(2, replica);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /** Whether the stream that took {@code epoch} is still its replica's one live stream. */
    public boolean holdsStream(String cluster, String replica, long epoch) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "select stream_epoch from zone_replica where cluster_id = ?" + " and replica = ?")) {
            ps.setString(1, cluster);
            ps.setString(2, replica);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getLong(1) == epoch;
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read cluster " + cluster, e);
        }
    }

    /** The replica's next credential; expired ones of the cluster are removed on the way. */
    public Credential rotate(String cluster, String replica) {
        return transaction(c -> {
            try (PreparedStatement ps =
                    c.prepareStatement("delete from zone_credential where cluster_id = ?" + " and expires_at <= ?")) {
                ps.setString(1, cluster);
                ps.setTimestamp(2, Timestamp.from(clock.instant()));
                ps.executeUpdate();
            }
            return insertCredential(c, cluster, replica, Optional.empty());
        });
    }

    /**
     * Cuts the cluster's zone off: its credentials are refused as revoked (until it is registered again, which
     * deletes them) and its unspent tokens deleted. False when there is no cluster.
     */
    public boolean revoke(String cluster) {
        return transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("update cluster set zone_revoked_at = ? where id = ?")) {
                ps.setTimestamp(1, Timestamp.from(clock.instant()));
                ps.setString(2, cluster);
                if (ps.executeUpdate() == 0) {
                    return false;
                }
            }
            try (PreparedStatement ps =
                    c.prepareStatement("delete from zone_registration where cluster_id = ?" + " and used_at is null")) {
                ps.setString(1, cluster);
                ps.executeUpdate();
            }
            return true;
        });
    }

    public boolean exists(String cluster) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select 1 from cluster where id = ?")) {
            ps.setString(1, cluster);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read cluster " + cluster, e);
        }
    }

    /** When the cluster's zone was revoked, if it is revoked now. */
    public Optional<Instant> revokedAt(String cluster) {
        try (Connection c = dataSource.getConnection()) {
            return revokedAt(c, cluster);
        } catch (SQLException e) {
            throw new StoreException("cannot read cluster " + cluster, e);
        }
    }

    private static Optional<Instant> revokedAt(Connection c, String cluster) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select zone_revoked_at from cluster where id = ?")) {
            ps.setString(1, cluster);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getTimestamp(1) != null
                        ? Optional.of(rs.getTimestamp(1).toInstant())
                        : Optional.empty();
            }
        }
    }

    /** Adds a gateway group to what the cluster's zone serves (again, after a withdrawal). */
    public void assign(String cluster, String group) {
        transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into cluster_group (cluster_id, gateway_group)"
                    + " values (?, ?) on conflict (cluster_id, gateway_group) do update set withdrawn_at = null,"
                    + " assigned_at = now()")) {
                ps.setString(1, cluster);
                ps.setString(2, group);
                ps.executeUpdate();
            }
            return null;
        });
    }

    /** Withdraws a group from the cluster: the zone is told, and stops serving it. False when it was not assigned. */
    public boolean withdraw(String cluster, String group) {
        return transaction(c -> {
            try (PreparedStatement ps = c.prepareStatement("update cluster_group set withdrawn_at = ?"
                    + " where cluster_id = ? and gateway_group = ? and withdrawn_at is null")) {
                ps.setTimestamp(1, Timestamp.from(clock.instant()));
                ps.setString(2, cluster);
                ps.setString(3, group);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /**
     * The groups a cluster's zone serves: those an operator assigned to it; withdrawn: assigned once, withdrawn since.
     * A product publish never adds one (it may name only a group assigned to its cluster, CatalogStore): a provider
     * naming a group must not hand a zone every tenant's routes of a group no operator gave it.
     */
    public ClusterGroups groups(String cluster) {
        Set<String> serving = new TreeSet<>();
        Set<String> withdrawn = new TreeSet<>();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement(
                    "select gateway_group, withdrawn_at is not null" + " from cluster_group where cluster_id = ?")) {
                ps.setString(1, cluster);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        (rs.getBoolean(2) ? withdrawn : serving).add(rs.getString(1));
                    }
                }
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the groups of cluster " + cluster, e);
        }
        return new ClusterGroups(serving, withdrawn);
    }

    private Credential insertCredential(Connection c, String cluster, String replica, Optional<String> pendingToken)
            throws SQLException {
        Credential credential = new Credential(
                ZoneSecrets.generate(CREDENTIAL_PREFIX), clock.instant().plus(credentialLifetime));
        try (PreparedStatement ps = c.prepareStatement("insert into zone_credential (credential_sha256, cluster_id,"
                + " created_at, expires_at, replica, pending_token_sha256) values (?, ?, ?, ?, ?, ?)")) {
            ps.setString(1, credential.digest());
            ps.setString(2, cluster);
            ps.setTimestamp(3, Timestamp.from(clock.instant()));
            ps.setTimestamp(4, Timestamp.from(credential.expiresAt()));
            ps.setString(5, replica);
            ps.setString(6, pendingToken.orElse(null));
            ps.executeUpdate();
        }
        return credential;
    }

    private static int delete(Connection c, String sql, String key) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, key);
            return ps.executeUpdate();
        }
    }

    private interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    private <T> T transaction(Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
        } catch (SQLException e) {
            throw new StoreException("zone registry: " + e.getMessage(), e);
        }
    }
}
