package io.meshguard.catalog.apikey;

import io.meshguard.catalogmodel.apikey.ApiKeySecret;
import io.meshguard.catalogmodel.apikey.CachedApiKeys;
import io.meshguard.db.PgChannelListener;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows PostgreSQL's notices on {@value #CHANNEL} for this replica, on one listening connection. A key revoked, its
 * expiry moved (a rotation) or deleted — by whatever wrote it: any replica's admin API, the CLI, SQL — is notified by
 * V62's trigger with its id, and this replica drops that key's cached record at once; a key created is notified by
 * V79's trigger as {@value #CREATED}{@code <id>}, and its id joins {@link KnownApiKeyIds} once {@code api_keys} confirms
 * it, without dropping anything. A (re)connected listener reads the ids whole and drops every record, since notices
 * sent while it was away are lost; the record cache's own TTL stays the net beneath.
 *
 * <p>Any database session may notify this channel, so a notice is a hint, never a fact: a made-up created id is not
 * added (one query confirms a whole batch), a changed id costs one record's re-read, and a payload that names no key
 * (neither form; the triggers never send one) is logged and counted and makes the cached records be confirmed against
 * the store ({@link CachedApiKeys#confirmAll}) rather than dropped: a revocation is never missed, and a flood of such
 * notices costs one query per batch, not a re-read of every key on the request path.
 */
public final class ApiKeyNotices implements AutoCloseable {
    /** The channel V62's and V79's triggers notify. */
    public static final String CHANNEL = "meshguard_apikey";
    /** The payload prefix of a created key's notice (V79); any other payload is a changed key's id (V62). */
    public static final String CREATED = "created:";

    private static final Logger LOG = LoggerFactory.getLogger(ApiKeyNotices.class);

    private final PgChannelListener channel;
    private final LongAdder createdConfirmed = new LongAdder();
    private final LongAdder createdUnconfirmed = new LongAdder();
    private final LongAdder changed = new LongAdder();
    private final LongAdder unreadable = new LongAdder();

    /**
     * @param cached the cached key records (the authenticator's)
     * @param ids the stored keys' ids this replica follows
     * @param safetyNet how often the cached records are confirmed anyway (the record TTL: nothing is kept longer)
     */
    public ApiKeyNotices(DataSource dataSource, CachedApiKeys cached, KnownApiKeyIds ids, Duration safetyNet) {
        this.channel = new PgChannelListener(
                dataSource,
                CHANNEL,
                Duration.ZERO,
                safetyNet,
                () -> {
                    ids.readWhole();
                    cached.dropAll();
                },
                payloads -> take(payloads, cached, ids));
    }

    private void take(Optional<Set<String>> payloads, CachedApiKeys cached, KnownApiKeyIds ids) {
        if (payloads.isEmpty()) {
            // the connect's (its records dropped already), the safety net, or a notified '*': nothing says what
            cached.confirmAll();
            return;
        }
        List<String> created = new ArrayList<>();
        boolean confirm = false;
        for (String payload : payloads.get()) {
            if (payload.isEmpty()) {
                continue; // a stopping listener's wake-up (PgChannelListener.close)
            }
            if (payload.startsWith(CREATED) && ApiKeySecret.isKeyId(payload.substring(CREATED.length()))) {
                created.add(payload.substring(CREATED.length()));
            } else if (ApiKeySecret.isKeyId(payload)) {
                changed.increment();
                cached.drop(payload);
            } else {
                // records are cached under well-formed ids only, so this names none of them; confirming them all
                // still catches a change whose notice came in a form this replica does not read
                unreadable.increment();
                confirm = true;
                LOG.warn(
                        "API key notice names no key id, cached keys are confirmed against the database: {}",
                        io.meshguard.runtime.logging.SensitiveText.mask(
                                payload.length() > 64 ? payload.substring(0, 64) : payload));
            }
        }
        if (!created.isEmpty()) {
            try {
                int unconfirmed = ids.addConfirmed(created);
                createdUnconfirmed.add(unconfirmed);
                createdConfirmed.add(created.size() - unconfirmed);
                if (unconfirmed > 0) {
                    LOG.warn("{} created API key notices name no stored key; their ids were not added", unconfirmed);
                }
            } catch (SQLException e) {
                // not added: a presented key of them is read within apikey.unlisted_reads_per_second meanwhile
                LOG.warn("created API key notices not confirmed: {}", e.getMessage());
            }
        }
        if (confirm) {
            cached.confirmAll();
        }
    }

    /** Created notices whose key was found in {@code api_keys} (their ids added). */
    public long createdConfirmed() {
        return createdConfirmed.sum();
    }

    /** Created notices naming an id not in {@code api_keys} (not added: made up, or deleted since). */
    public long createdUnconfirmed() {
        return createdUnconfirmed.sum();
    }

    /** Changed keys' notices (each dropped that key's cached record). */
    public long changed() {
        return changed.sum();
    }

    /** Notices naming no key id (each batch of them confirmed the cached records). */
    public long unreadable() {
        return unreadable.sum();
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
