package io.meshguard.catalog.apikey;

import io.meshguard.db.PgChannelListener;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Follows PostgreSQL's notices on {@value #CHANNEL} for this replica, on one listening connection. A key revoked, its
 * expiry moved (a rotation) or deleted — by whatever wrote it: any replica's admin API, the CLI, SQL — is notified by
 * V62's trigger with its id, and this replica drops its cached key records at once; a key created is notified by V79's
 * trigger as {@value #CREATED}{@code <id>}, and its id joins {@link KnownApiKeyIds} without dropping anything. A
 * (re)connected listener reads the ids whole and drops the records too, since notices sent while it was away are lost;
 * the record cache's own TTL stays the net beneath.
 */
public final class ApiKeyNotices implements AutoCloseable {
    /** The channel V62's and V79's triggers notify. */
    public static final String CHANNEL = "meshguard_apikey";
    /** The payload prefix of a created key's notice (V79); any other payload is a changed key's id (V62). */
    public static final String CREATED = "created:";

    private final PgChannelListener channel;

    /**
     * @param dropCachedKeys drops every cached key record (the authenticator's {@code invalidateAll}; the
     *                       authenticator lives with the decision engine, which the catalogue does not know)
     * @param ids the stored keys' ids this replica follows
     * @param safetyNet how often the cache is dropped anyway (the record TTL: nothing is kept longer than today)
     */
    public ApiKeyNotices(DataSource dataSource, Runnable dropCachedKeys, KnownApiKeyIds ids, Duration safetyNet) {
        this.channel =
                new PgChannelListener(dataSource, CHANNEL, Duration.ZERO, safetyNet, ids::readWhole, payloads -> {
                    if (taken(payloads, ids)) {
                        dropCachedKeys.run();
                    }
                });
    }

    /** Adds created keys' ids; true when cached records must go (anything else may have changed). */
    private static boolean taken(Optional<Set<String>> payloads, KnownApiKeyIds ids) {
        if (payloads.isEmpty()) {
            return true;
        }
        boolean changed = false;
        for (String payload : payloads.get()) {
            if (payload.startsWith(CREATED)) {
                ids.add(payload.substring(CREATED.length()));
            } else if (!payload.isEmpty()) {
                changed = true; // the empty payload is a stopping listener's wake-up (PgChannelListener.close)
            }
        }
        return changed;
    }

    public ApiKeyNotices start() {
        channel.start("apikey-notices");
        return this;
    }

    @Override
    public void close() {
        channel.close();
    }
}
