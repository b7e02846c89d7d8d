package io.meshguard.xds.store;

import io.meshguard.xds.model.GatewayConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Revisions kept in memory: for {@code xds render} of a file and for tests that need no database. */
public final class InMemoryRevisionStore implements RevisionStore {
    private final List<Revision> revisions = new ArrayList<>();
    private final Clock clock;

    public InMemoryRevisionStore(Clock clock) {
        this.clock = clock;
    }

    @Override
    public synchronized Revision append(String group, GatewayConfig slice, String actor, String reason) {
        Revision r = new Revision(revisions.size() + 1, group, slice, actor, reason, clock.instant());
        revisions.add(r);
        return r;
    }

    @Override
    public synchronized Optional<Revision> get(long id) {
        return id < 1 || id > revisions.size() ? Optional.empty() : Optional.of(revisions.get((int) id - 1));
    }

    @Override
    public synchronized Map<String, Revision> latestPerGroup() {
        Map<String, Revision> latest = new LinkedHashMap<>();
        revisions.forEach(r -> latest.put(r.group(), r));
        return latest;
    }

    @Override
    public synchronized Map<String, Long> latestIds() {
        Map<String, Long> ids = new LinkedHashMap<>();
        revisions.forEach(r -> ids.put(r.group(), r.id()));
        return ids;
    }

    @Override
    public synchronized List<Revision.Summary> list(Optional<String> group, int limit) {
        return revisions.reversed().stream()
                .filter(r -> group.isEmpty() || group.get().equals(r.group()))
                .limit(limit)
                .map(Revision::summary)
                .toList();
    }
}
