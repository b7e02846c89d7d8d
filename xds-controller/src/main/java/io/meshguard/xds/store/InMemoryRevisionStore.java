package io.meshguard.xds.store;

import io.meshguard.xds.model.GatewayConfig;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Revisions kept in memory: for {@code xds render} of a file and for tests that need no database. */
public final class InMemoryRevisionStore implements RevisionStore {
    private final List<Revision> revisions = new ArrayList<>();
    private final Clock clock;

    public InMemoryRevisionStore(Clock clock) {
        this.clock = clock;
    }

    @Override
    public synchronized Revision append(GatewayConfig config, String actor, String reason) {
        Revision r = new Revision(revisions.size() + 1, config, actor, reason, clock.instant());
        revisions.add(r);
        return r;
    }

    @Override
    public synchronized Optional<Revision> latest() {
        return revisions.isEmpty() ? Optional.empty() : Optional.of(revisions.get(revisions.size() - 1));
    }

    @Override
    public synchronized Optional<Revision> get(long id) {
        return id < 1 || id > revisions.size() ? Optional.empty() : Optional.of(revisions.get((int) id - 1));
    }

    @Override
    public synchronized List<Revision.Summary> list(int limit) {
        return revisions.reversed().stream().limit(limit).map(Revision::summary).toList();
    }
}
