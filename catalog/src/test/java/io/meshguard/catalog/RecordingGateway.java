package io.meshguard.catalog;

import io.meshguard.catalogmodel.ServedProduct;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gateway side of a product publish where the catalogue alone is under test: numbers revisions, remembers what it
 * was asked to serve, and refuses when told to (the real one, xds-controller's ProductPublisher, has its own tests).
 */
public final class RecordingGateway implements GatewayServing {
    /** One call: the publish, whether it is served after it, and who asked. */
    public record Call(ServedProduct publish, boolean serve, Change change) {}

    private final AtomicLong revisions = new AtomicLong();
    private final List<Call> calls = new ArrayList<>();
    private volatile Optional<String> refusal = Optional.empty();

    @Override
    public synchronized Served serve(ServedProduct publish, boolean serve, Change change) {
        if (refusal.isPresent()) {
            throw new CatalogRefusal(CatalogRefusal.Kind.INVALID, refusal.get());
        }
        calls.add(new Call(publish, serve, change));
        return new Served(Optional.of(revisions.incrementAndGet()), Optional.empty());
    }

    /** From now on every serve is refused with {@code message}. */
    public void refuse(String message) {
        refusal = Optional.of(message);
    }

    public synchronized List<Call> calls() {
        return List.copyOf(calls);
    }

    public static GatewayServing.Change change(String actor) {
        return new GatewayServing.Change(actor, "test", "req-1");
    }
}
