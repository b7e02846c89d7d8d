package io.meshguard.extauthz.apikey;

import io.meshguard.db.PgChannelListener;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * Pushes API key revocations to this replica: migration V62's trigger notifies {@value #CHANNEL} when a key is revoked,
 * its expiry moves (a rotation) or it is deleted, by whatever wrote it (any replica's admin API, the CLI, SQL), and
 * this replica drops its cached key records at once. A (re)connected listener drops them too, since notices sent while
 * it was away are lost; the cache's own TTL stays the net beneath.
 */
public final class ApiKeyRevocations implements AutoCloseable {
    /** The channel V62's {@code meshguard_apikey_changed} trigger notifies. */
    public static final String CHANNEL = "meshguard_apikey";

    private final PgChannelListener channel;

    /**
     * @param dropCachedKeys drops every cached key record (the authenticator's {@code invalidateAll}; the
     *                       authenticator lives with the decision engine, which the catalogue does not know)
     * @param safetyNet how often the cache is dropped anyway (the record TTL: nothing is kept longer than today)
     */
    public ApiKeyRevocations(DataSource dataSource, Runnable dropCachedKeys, Duration safetyNet) {
        this.channel = new PgChannelListener(dataSource, CHANNEL, Duration.ZERO, safetyNet, dropCachedKeys);
    }

    public ApiKeyRevocations start() {
        channel.start("apikey-revocations");
        return this;
    }

    @Override
    public void close() {
        channel.close();
    }
}
