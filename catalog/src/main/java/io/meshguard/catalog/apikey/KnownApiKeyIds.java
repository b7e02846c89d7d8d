package io.meshguard.catalog.apikey;

import io.meshguard.catalogmodel.apikey.ApiKeyIds;
import io.meshguard.catalogmodel.apikey.ApiKeySecret;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ids of the API keys in PostgreSQL, as this replica knows them: read whole ({@link #readWhole}: when
 * {@link ApiKeyNotices} (re)connects, and now and then), each new key added as its notice arrives ({@link #add}).
 * Until the first whole read every id may exist. Ids are kept as 64-bit numbers (a key id is 16 lower-case hex
 * digits): 8 bytes a key in a sorted array, plus the keys added since the last whole read. A deleted key stays until
 * the next whole read; that costs a lookup, never a wrong answer. A created notice is a hint, confirmed against
 * {@code api_keys} before its id is added ({@link #addConfirmed}).
 */
public final class KnownApiKeyIds implements ApiKeyIds {
    private static final Logger LOG = LoggerFactory.getLogger(KnownApiKeyIds.class);

    private final DataSource dataSource;
    /** Sorted ids of the last whole read; null before it. */
    private volatile long[] read;
    /** Ids added since the last whole read; a new set with each whole read. */
    private volatile Set<Long> added = ConcurrentHashMap.newKeySet();

    public KnownApiKeyIds(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @Override
    public boolean mayExist(String keyId) {
        // added before read: a whole read replaces read first, so a set of adds already cleared means read has them
        Set<Long> since = added;
        long[] ids = read;
        if (ids == null) {
            return true;
        }
        Optional<Long> id = number(keyId);
        return id.isEmpty() || since.contains(id.get()) || Arrays.binarySearch(ids, id.get()) >= 0;
    }

    /** Whether the ids have been read whole at least once (before that every id may exist). */
    public boolean loaded() {
        return read != null;
    }

    /** How many ids this replica knows. */
    public int size() {
        long[] ids = read;
        return (ids == null ? 0 : ids.length) + added.size();
    }

    /** A key created since the last whole read (its notice). */
    public synchronized void add(String keyId) {
        number(keyId).ifPresent(added::add);
    }

    /**
     * Adds those of {@code keyIds} (created notices: hints anyone with a database session can send) that are stored
     * keys' ids, read in one query; an id this replica knows already costs nothing, and a made-up one is not added.
     * The read runs outside this object's lock; {@link #add} then waits for a whole read in progress, so an id
     * confirmed here is never lost to it.
     *
     * @return how many of the ids that were not known are not stored keys' (unconfirmed: made up, or deleted since)
     * @throws SQLException when the ids cannot be read (none is added; an unlisted read can still find the key)
     */
    public int addConfirmed(Collection<String> keyIds) throws SQLException {
        List<String> unknown = keyIds.stream()
                .filter(id -> number(id).isPresent() && !mayExist(id))
                .distinct()
                .toList();
        if (unknown.isEmpty()) {
            return 0;
        }
        List<String> stored = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("select key_id from api_keys where key_id = any (?)")) {
            s.setArray(1, c.createArrayOf("text", unknown.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    stored.add(rs.getString(1));
                }
            }
        }
        stored.forEach(this::add);
        return unknown.size() - stored.size();
    }

    /**
     * Reads every stored id. Synchronized with {@link #add}: a notice taken while this read runs waits for it, so an id
     * committed after the read's snapshot is added after the read replaced the ids, never lost by it.
     */
    public synchronized void readWhole() {
        long[] ids = new long[1024];
        int n = 0;
        try (Connection c = dataSource.getConnection();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false); // a cursor, so a million ids are not held as rows at once
            s.setFetchSize(10_000);
            try (ResultSet rs = s.executeQuery("select key_id from api_keys")) {
                while (rs.next()) {
                    Optional<Long> id = number(rs.getString(1));
                    if (id.isPresent()) {
                        if (n == ids.length) {
                            ids = Arrays.copyOf(ids, n * 2);
                        }
                        ids[n++] = id.get();
                    }
                }
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            // the ids known before stay; the listener reads again when it reconnects
            LOG.warn("API key ids not read: {}", e.getMessage());
            return;
        }
        long[] sorted = Arrays.copyOf(ids, n);
        Arrays.sort(sorted);
        read = sorted;
        added = ConcurrentHashMap.newKeySet();
    }

    /** A key id as its number; empty for anything a presented key cannot name (not 16 lower-case hex digits). */
    static Optional<Long> number(String keyId) {
        return ApiKeySecret.isKeyId(keyId) ? Optional.of(Long.parseUnsignedLong(keyId, 16)) : Optional.empty();
    }
}
