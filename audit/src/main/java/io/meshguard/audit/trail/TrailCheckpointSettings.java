package io.meshguard.audit.trail;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Where and how the controller signs the admin trail's head (TrailCheckpointer): the Ed25519 private key's file (a
 * Secret the database never holds; unset, no checkpoints are written and the controller says so at start), the
 * append-only directory the checkpoints go to, and how often the head is looked at.
 */
public record TrailCheckpointSettings(
        Optional<Path> keyFile, List<Path> previousPublicKeys, Path dir, Duration interval) {
    public TrailCheckpointSettings {
        previousPublicKeys = List.copyOf(previousPublicKeys);
    }

    /** Settings without keys rotated from. */
    public TrailCheckpointSettings(Optional<Path> keyFile, Path dir, Duration interval) {
        this(keyFile, List.of(), dir, interval);
    }

    public static final ConfigKey<Optional<Path>> KEY_FILE = ConfigKey.optionalPath(
            "audit.admin_trail.checkpoint.key_file",
            "Ed25519 private key (PKCS#8 PEM, `openssl genpkey -algorithm "
                    + "ed25519`) the controller signs admin trail checkpoints with; keep it out of the database's reach."
                    + " Unset: no checkpoints, and `meshguard audit verify` cannot find the newest rows cut off.");
    public static final ConfigKey<List<String>> PREVIOUS_PUBLIC_KEYS = ConfigKey.stringList(
            "audit.admin_trail.checkpoint.previous_public_key_files",
            List.of(),
            "Ed25519 public keys (PEM, `openssl pkey -pubout`) of keys the controller signed checkpoints with before a"
                    + " rotation, comma-separated: their checkpoints keep verifying and the newest of them still binds"
                    + " the head. Drop one only when no checkpoint in the directory names it.");
    public static final ConfigKey<Path> DIR = ConfigKey.path(
            "audit.admin_trail.checkpoint.dir",
            Path.of(".meshguard", "trail-checkpoints"),
            "Directory the signed checkpoints are appended to (one "
                    + "JSON line each); a volume the database role cannot write. `meshguard audit verify "
                    + "--checkpoints DIR` reads it.");
    public static final ConfigKey<Duration> INTERVAL = ConfigKey.duration(
            "audit.admin_trail.checkpoint.interval",
            Duration.ofSeconds(1),
            "How often the trail's head is read; it is signed when it moved, so an admin "
                    + "event is signed within this time.");

    /** The keys and how to read them (the controller's, in {@code meshguard xds}'s schema). */
    public static ConfigGroup<TrailCheckpointSettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(KEY_FILE, PREVIOUS_PUBLIC_KEYS, DIR, INTERVAL);
            }

            @Override
            public TrailCheckpointSettings read(Config c) {
                return new TrailCheckpointSettings(
                        c.get(KEY_FILE),
                        c.get(PREVIOUS_PUBLIC_KEYS).stream().map(Path::of).toList(),
                        c.get(DIR),
                        c.get(INTERVAL));
            }
        };
    }

    /**
     * The checkpointer these settings describe, not started; empty without a key file.
     *
     * @param instance this writer's name in the checkpoint files (the pod or host name)
     */
    public Optional<TrailCheckpointer> checkpointer(DataSource dataSource, MeterRegistry meters, String instance)
            throws IOException {
        if (keyFile.isEmpty()) {
            return Optional.empty();
        }
        List<java.security.PublicKey> previous = new java.util.ArrayList<>();
        for (Path p : previousPublicKeys) {
            previous.add(CheckpointKeys.readPublic(p));
        }
        return Optional.of(new TrailCheckpointer(
                dataSource,
                CheckpointKeys.readPrivate(keyFile.get()),
                previous,
                new CheckpointDirectory(dir, instance),
                Clock.systemUTC(),
                interval,
                meters));
    }
}
