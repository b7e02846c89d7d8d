package io.meshguard.xds.zone;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The revisions a zone serves, one per gateway group, each kept in a file of the zone's state directory so that a
 * restarted zone serves them before central answers (or while it does not). The zone never publishes: revisions
 * arrive from central with central's ids, and only a withdrawal removes one. A file is replaced atomically, so a crash
 * leaves the old revision or the new one, never half of either.
 */
public final class ZoneRevisions implements RevisionStore {
    private static final Logger log = LoggerFactory.getLogger(ZoneRevisions.class);
    private static final String SUFFIX = ".revision.json";

    private final Path dir;
    private final Map<String, Revision> byGroup = new ConcurrentHashMap<>();

    /** Loads what an earlier run of the zone stored in {@code dir} (created when missing). */
    public ZoneRevisions(Path dir) {
        this.dir = dir;
        try {
            Files.createDirectories(dir);
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).forEach(this::load);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("zone state directory " + dir, e);
        }
    }

    private void load(Path file) {
        try {
            JsonNode n = ConfigJson.mapper().readTree(Files.readString(file));
            Revision r = new Revision(
                    n.path("id").asLong(),
                    n.path("group").asText(),
                    ConfigJson.mapper().treeToValue(n.path("config"), GatewayConfig.class),
                    n.path("actor").asText(),
                    n.path("reason").asText(),
                    Instant.parse(n.path("created_at").asText()));
            byGroup.put(r.group(), r);
        } catch (IOException | RuntimeException e) {
            // one unreadable file must not stop the others from serving
            log.error(
                    "zone state file {} unreadable, its group is not served until central sends it: {}",
                    file,
                    e.getMessage());
        }
    }

    /**
     * Keeps a revision from central when it is newer than the group's; false (and nothing changes) otherwise, so a
     * repeated or reordered message is harmless.
     */
    public synchronized boolean accept(ZoneProto.GroupRevision wire) {
        Revision current = byGroup.get(wire.getGroup());
        if (current != null && current.id() >= wire.getRevision()) {
            return false;
        }
        Revision r = new Revision(
                wire.getRevision(),
                wire.getGroup(),
                ConfigJson.readConfig(wire.getConfig()),
                wire.getActor(),
                wire.getReason(),
                ZoneWire.instant(wire.getCreatedAt()));
        ObjectNode n = ConfigJson.mapper().createObjectNode();
        n.put("id", r.id());
        n.put("group", r.group());
        n.set("config", ConfigJson.mapper().valueToTree(r.config()));
        n.put("actor", r.actor());
        n.put("reason", r.reason());
        n.put("created_at", r.createdAt().toString());
        write(file(r.group()), ConfigJson.write(n));
        byGroup.put(r.group(), r);
        return true;
    }

    /** Forgets a withdrawn group; false when the zone did not hold it. */
    public synchronized boolean withdraw(String group) {
        if (byGroup.remove(group) == null) {
            return false;
        }
        try {
            Files.deleteIfExists(file(group));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return true;
    }

    private Path file(String group) {
        // group names are free text: hex keeps every name a safe, distinct file name
        return dir.resolve(HexFormat.of().formatHex(group.getBytes(StandardCharsets.UTF_8)) + SUFFIX);
    }

    static void write(Path file, String content) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, content);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    /** The zone holds what central sends; it never creates a revision. */
    @Override
    public Revision append(String group, GatewayConfig slice, String actor, String reason) {
        throw new UnsupportedOperationException("a zone serves central's revisions and publishes none");
    }

    @Override
    public Optional<Revision> get(long id) {
        return byGroup.values().stream().filter(r -> r.id() == id).findFirst();
    }

    @Override
    public Map<String, Revision> latestPerGroup() {
        return new TreeMap<>(byGroup);
    }

    @Override
    public Map<String, Long> latestIds() {
        Map<String, Long> ids = new TreeMap<>();
        byGroup.forEach((g, r) -> ids.put(g, r.id()));
        return ids;
    }

    @Override
    public List<Revision.Summary> list(Optional<String> group, int limit) {
        return byGroup.values().stream()
                .filter(r -> group.isEmpty() || group.get().equals(r.group()))
                .sorted((a, b) -> Long.compare(b.id(), a.id()))
                .limit(limit)
                .map(Revision::summary)
                .toList();
    }
}
