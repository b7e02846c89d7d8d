package io.meshguard.extauthz.apikey;

import io.meshguard.db.PgChannelListener;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ids of the API keys in PostgreSQL, followed on this replica: read whole when the listener (re)connects and every
 * {@code safetyNet}, and each new key added when its transaction commits (migration V79 notifies {@value #CHANNEL}
 * with its id). Until the first read, every id may exist. Ids are kept as 64-bit numbers (a key id is 16 lower-case
 * hex digits): 8 bytes a key, in a sorted array plus the keys added since the last whole read. Deleted keys stay
 * until the next whole read; that costs a lookup, never a wrong answer.
 */
public final class KnownApiKeyIds implements ApiKeyIds, AutoCloseable {
    /** The channel V79's {@code meshguard_apikey_created} trigger notifies, with the new key's id. */
    public static final String CHANNEL = "meshguard_apikey_created";

    private static final Logger LOG = LoggerFactory.getLogger(KnownApiKeyIds.class);

    private final DataSource dataSource;
    private final PgChannelListener channel;
    /** Sorted ids of the last whole read; null before it. Only the listener's thread writes. */
    private volatile long[] read;
    /** Ids notified since the last whole read. */
    private final Set<Long> added = ConcurrentHashMap.newKeySet();

    /** @param safetyNet how often the ids are read whole anyway (notices lost without the connection noticing) */
    public KnownApiKeyIds(DataSource dataSource, Duration safetyNet) {
        this.dataSource = dataSource;
        this.channel = new PgChannelListener(dataSource, CHANNEL, Duration.ZERO, safetyNet, this::changed);
    }

    public KnownApiKeyIds start() {
        channel.start("apikey-ids");
        return this;
    }

    @Override
    public boolean mayExist(String keyId) {
        long[] ids = read;
        if (ids == null) {
            return true;
        }
        Optional<Long> id = number(keyId);
        return id.isEmpty() || Arrays.binarySearch(ids, id.get()) >= 0 || added.contains(id.get());
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

    private void changed(Optional<Set<String>> payloads) {
        if (payloads.isEmpty()) {
            readWhole();
            return;
        }
        for (String keyId : payloads.get()) {
            number(keyId).ifPresent(added::add);
        }
    }

    private void readWhole() {
        long[] ids = new long[1024];
        int n = 0;
        try (Connection c = dataSource.getConnection();
                Statement s = c.createStatement()) {
            s.setFetchSize(10_000);
            c.setAutoCommit(false); // a cursor, so a million ids are not held as rows at once
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
            // the listener retries on a lost connection; until then the ids known before stay
            LOG.warn("API key ids not read: {}", e.getMessage());
            return;
        }
        long[] sorted = Arrays.copyOf(ids, n);
        Arrays.sort(sorted);
        // the notices taken before this read are in it; later ones arrive after it, on this thread
        read = sorted;
        added.clear();
    }

    /** A key id as its number; empty for anything a presented key cannot name (not 16 lower-case hex digits). */
    static Optional<Long> number(String keyId) {
        if (keyId.length() != 16) {
            return Optional.empty();
        }
        for (int i = 0; i < 16; i++) {
            char c = keyId.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return Optional.empty();
            }
        }
        return Optional.of(Long.parseUnsignedLong(keyId, 16));
    }

    @Override
    public void close() {
        channel.close();
    }
}
