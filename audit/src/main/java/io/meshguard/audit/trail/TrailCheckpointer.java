package io.meshguard.audit.trail;

import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.PrivateKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the admin trail's head out of the database by itself: every {@code interval} it reads the head and the
 * newest anchor (one row each) and, when either moved, signs them (TrailCheckpoint, Ed25519 with a key the database
 * never holds), appends the checkpoint to the checkpoint directory and logs it as one JSON line (logger
 * {@code meshguard.admin_trail.checkpoint}). Polling rather than a hook in each appender: extauthz and maintenance
 * append to the same trail from other processes, and one small read per interval costs nothing measurable. An admin
 * event is therefore signed within one interval (default 1 s); several events within one interval share a checkpoint.
 */
public final class TrailCheckpointer implements ServerComponent {
    private static final Logger LOG = LoggerFactory.getLogger(TrailCheckpointer.class);
    private static final Logger CHECKPOINTS = LoggerFactory.getLogger("meshguard.admin_trail.checkpoint");

    private final DataSource dataSource;
    private final PrivateKey key;
    private final String keyId;
    private final TrustedCheckpointKeys trusted;
    private final CheckpointDirectory directory;
    private final Clock clock;
    private final Duration interval;
    private final Counter written;
    private final Counter failures;
    private final AtomicLong signedSeq = new AtomicLong(-1);
    private final AtomicLong signedAnchor = new AtomicLong(-1);
    private final AtomicLong headRegressed = new AtomicLong(0);
    /** The newest head signed (read back from the directory on the first round); null until then. */
    private Optional<TrailCheckpoint> newest;

    private volatile String regression = "";
    private volatile long lastSuccessMillis;
    private volatile String lastFailure = "";
    private ScheduledExecutorService timer;
    private volatile boolean closing;

    public TrailCheckpointer(
            DataSource dataSource,
            PrivateKey key,
            CheckpointDirectory directory,
            Clock clock,
            Duration interval,
            MeterRegistry meters) {
        this(dataSource, key, List.of(), directory, clock, interval, meters);
    }

    /**
     * @param key the key new checkpoints are signed with
     * @param previous the public keys of the keys signed with before rotations: their checkpoints stay trusted (the
     *     newest head this controller must not undo may be one of theirs)
     */
    public TrailCheckpointer(
            DataSource dataSource,
            PrivateKey key,
            List<java.security.PublicKey> previous,
            CheckpointDirectory directory,
            Clock clock,
            Duration interval,
            MeterRegistry meters) {
        this.dataSource = dataSource;
        this.key = key;
        java.security.PublicKey own = CheckpointKeys.publicOf(key);
        this.keyId = CheckpointKeys.keyId(own);
        List<java.security.PublicKey> keys = new java.util.ArrayList<>(previous);
        keys.add(0, own);
        this.trusted = new TrustedCheckpointKeys(keys);
        this.directory = directory;
        this.clock = clock;
        this.interval = interval;
        this.written = Counter.builder("meshguard.admin_trail.checkpoints")
                .description("Signed admin trail checkpoints written outside the database")
                .register(meters);
        this.failures = Counter.builder("meshguard.admin_trail.checkpoint.failures")
                .description("Checkpoint rounds that failed (database unreadable or directory unwritable)")
                .register(meters);
        Gauge.builder("meshguard.admin_trail.checkpoint.seq", signedSeq, AtomicLong::get)
                .description("Trail row of the newest checkpoint this controller signed")
                .register(meters);
        Gauge.builder("meshguard.admin_trail.head_regressed", headRegressed, AtomicLong::get)
                .description("1 while the admin trail no longer holds the newest signed head with its signed hash "
                        + "(rows removed or rewritten in the database) and checkpoints are refused, else 0")
                .register(meters);
        Gauge.builder(
                        "meshguard.admin_trail.checkpoint.age.seconds",
                        this,
                        c -> c.lastSuccessMillis == 0 ? Double.NaN : (c.clock.millis() - c.lastSuccessMillis) / 1000.0)
                .description("Seconds since the last successful checkpoint round")
                .register(meters);
    }

    @Override
    public String name() {
        return "admin-trail-checkpoints";
    }

    @Override
    public void start() {
        timer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("admin-trail-checkpoints").daemon().factory());
        timer.scheduleWithFixedDelay(this::round, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void round() {
        try {
            checkpointNow();
            lastFailure = "";
        } catch (Exception e) {
            if (closing) {
                return; // the pool may already be closing: not a failure of the trail
            }
            failures.increment();
            lastFailure = e.toString();
            LOG.error("admin trail checkpoint failed (retrying in {}): {}", interval, e.toString());
        }
    }

    /**
     * Signs and writes the head now if it or the anchor moved since the last checkpoint; returns what it wrote. Refuses
     * (writes nothing, returns empty, raises {@code meshguard_admin_trail_head_regressed} and says why in /readyz and
     * at ERROR) while the trail no longer holds the newest signed head with its signed hash: a head that went back, or
     * a signed row rewritten. Signing that head would vouch for the shorter trail; the refusal lasts as long as the
     * trail disagrees with the signed head, across restarts (the newest signed head is read back from the directory).
     */
    public synchronized Optional<TrailCheckpoint> checkpointNow() throws Exception {
        if (newest == null) {
            newest = newestSigned();
            newest.ifPresent(cp -> {
                signedSeq.set(cp.seq());
                signedAnchor.set(cp.anchorSeq());
            });
        }
        long seq;
        String hash;
        long anchorSeq;
        String anchorHash;
        Optional<String> signedRowNow = Optional.empty();
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement ps = c.prepareStatement("""
                    select h.seq, h.row_hash, coalesce(a.up_to_seq, 0), coalesce(a.row_hash, ?)
                      from admin_trail_head h left join lateral (select up_to_seq, row_hash from admin_trail_anchor
                           order by up_to_seq desc limit 1) a on true
                     where h.id = 1""")) {
                ps.setString(1, TrailHash.GENESIS);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    seq = rs.getLong(1);
                    hash = rs.getString(2);
                    anchorSeq = rs.getLong(3);
                    anchorHash = rs.getString(4);
                }
            }
            if (newest.isPresent() && seq > newest.get().seq() && newest.get().seq() > anchorSeq) {
                try (PreparedStatement ps = c.prepareStatement("select row_hash from admin_trail where seq = ?")) {
                    ps.setLong(1, newest.get().seq());
                    try (ResultSet rs = ps.executeQuery()) {
                        signedRowNow = rs.next() ? Optional.of(rs.getString(1)) : Optional.of("(no row)");
                    }
                }
            }
        }
        lastSuccessMillis = clock.millis();
        Optional<String> wentBack =
                newest.isEmpty() ? Optional.empty() : disagreement(newest.get(), seq, hash, signedRowNow);
        if (wentBack.isPresent()) {
            if (!wentBack.get().equals(regression)) {
                LOG.error(
                        "refusing to sign the admin trail's head: {}; rows were removed or rewritten in the database"
                                + " (meshguard audit verify names them; docs/operate/audit.md,"
                                + " \"The admin trail's signed checkpoints\")",
                        wentBack.get());
            }
            regression = wentBack.get();
            headRegressed.set(1);
            return Optional.empty();
        }
        if (!regression.isEmpty()) {
            LOG.warn("the admin trail holds the newest signed head again; signing resumes");
            regression = "";
            headRegressed.set(0);
        }
        if (newest.isPresent()
                && seq == newest.get().seq()
                && anchorSeq == newest.get().anchorSeq()) {
            return Optional.empty();
        }
        TrailCheckpoint cp = TrailCheckpoint.sign(seq, hash, anchorSeq, anchorHash, clock.instant(), keyId, key);
        directory.append(cp);
        CHECKPOINTS.info(
                "{\"event\":\"admin_trail_checkpoint\",{}", cp.toJsonLine().substring(1));
        newest = Optional.of(cp);
        signedSeq.set(seq);
        signedAnchor.set(anchorSeq);
        written.increment();
        return Optional.of(cp);
    }

    /** Why the trail's head as read now is not a successor of {@code signed}, if it is not. */
    private static Optional<String> disagreement(
            TrailCheckpoint signed, long seq, String hash, Optional<String> signedRowNow) {
        if (seq < signed.seq()) {
            return Optional.of("the head went back from row " + signed.seq() + " (signed at " + signed.signedAt()
                    + ") to row " + seq);
        }
        if (seq == signed.seq() && !hash.equals(signed.rowHash())) {
            return Optional.of(
                    "row " + seq + ", the head signed at " + signed.signedAt() + ", no longer has its signed hash");
        }
        if (signedRowNow.isPresent() && !signedRowNow.get().equals(signed.rowHash())) {
            return Optional.of("row " + signed.seq() + ", the head signed at " + signed.signedAt()
                    + ", no longer has its signed hash under the head at row " + seq);
        }
        return Optional.empty();
    }

    /**
     * The highest head in the directory signed with this controller's key or a key it rotated from (the newest a
     * restart, or a rotation, must not undo).
     */
    private Optional<TrailCheckpoint> newestSigned() throws java.io.IOException {
        return directory.contents().checkpoints().stream()
                .sorted(Comparator.comparingLong(TrailCheckpoint::seq).reversed())
                .filter(trusted::signed)
                .findFirst();
    }

    /** The id new checkpoints name their key by. */
    public String keyId() {
        return keyId;
    }

    /**
     * The checkpoints in this controller's directory, each checked with its key: what the admin plane's
     * {@code GET /audit/trail/verify} (the console's and {@code meshguard audit verify}'s walk) checks the trail
     * against.
     */
    public AdminTrailVerifier.SignedCheckpoints signedCheckpoints() throws java.io.IOException {
        return new AdminTrailVerifier.SignedCheckpoints(directory.contents(), trusted);
    }

    /** Why signing is refused now (the trail disagrees with the newest signed head), or empty. */
    public Optional<String> refusal() {
        return regression.isEmpty() ? Optional.empty() : Optional.of(regression);
    }

    /** Ready always (checkpoints must not take the admin plane down), with what is signed or what is wrong. */
    @Override
    public List<ReadinessCheck> readinessChecks() {
        return List.of(ReadinessCheck.of("admin-trail-checkpoints", () -> {
            if (!regression.isEmpty()) {
                return ReadinessCheck.Result.ready("ADMIN TRAIL HEAD WENT BACK, not signing: " + regression);
            }
            return ReadinessCheck.Result.ready(
                    lastFailure.isEmpty()
                            ? "signed up to row " + signedSeq.get()
                            : "checkpoints failing: " + lastFailure);
        }));
    }

    @Override
    public void close() {
        closing = true;
        if (timer != null) {
            // a round in progress finishes (one short read, a signature, a line): no half-written checkpoint
            timer.shutdown();
            try {
                if (!timer.awaitTermination(5, TimeUnit.SECONDS)) {
                    timer.shutdownNow();
                }
            } catch (InterruptedException e) {
                timer.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
        try {
            directory.close();
        } catch (java.io.IOException e) {
            LOG.warn("closing the checkpoint directory: {}", e.toString());
        }
    }
}
