package io.meshguard.catalog.api;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many replay reports run at once: one per request, {@link Limits#perTenant} per tenant and {@link Limits#total}
 * in all. A report streams a window of the audit (at a bank's month, millions of rows) on one database connection for
 * as long as it runs, so unbounded concurrent reports would take the pool from every other tenant's calls and from the
 * admin trail's writers. A report that finds no slot is refused at once ({@link Busy}), never queued: a queue would
 * hold the caller's thread and the request open as long as the reports ahead of it.
 */
public final class ReportSlots {
    /**
     * @param total reports at once in all (each holds one database connection while it runs)
     * @param perTenant reports at once per tenant, below {@code total} so that one tenant never holds every slot
     */
    public record Limits(int total, int perTenant) {
        public Limits {
            if (total < 1 || perTenant < 1 || perTenant > total) {
                throw new IllegalArgumentException(
                        "report slots: total and per tenant must be at least 1, per tenant at most total; got total="
                                + total + ", per tenant=" + perTenant);
            }
        }
    }

    /** Two at once in all, one per tenant. */
    public static final Limits DEFAULT = new Limits(2, 1);

    /** No slot free now: the caller tries again when the running reports are done. */
    public static final class Busy extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Busy(String message) {
            super(message);
        }
    }

    /** A taken slot; closing it frees it. */
    public interface Slot extends AutoCloseable {
        @Override
        void close();
    }

    private final Limits limits;
    private final Set<Long> requests = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<String, AtomicInteger> tenants = new ConcurrentHashMap<>();
    private final AtomicInteger running = new AtomicInteger();

    public ReportSlots(Limits limits) {
        this.limits = limits;
    }

    /**
     * A slot for request {@code requestId} of {@code tenant}.
     *
     * @throws Busy when the request's report is being computed already, or the tenant's or all slots are taken
     */
    public Slot take(long requestId, String tenant) {
        if (!requests.add(requestId)) {
            throw new Busy("the report of request " + requestId + " is being computed already; read it when done");
        }
        AtomicInteger own = tenants.computeIfAbsent(tenant, t -> new AtomicInteger());
        if (own.incrementAndGet() > limits.perTenant()) {
            own.decrementAndGet();
            requests.remove(requestId);
            throw new Busy("tenant " + tenant + " has " + limits.perTenant()
                    + " report(s) being computed, the most at once; try again when they are done");
        }
        if (running.incrementAndGet() > limits.total()) {
            running.decrementAndGet();
            own.decrementAndGet();
            requests.remove(requestId);
            throw new Busy("the most reports at once (" + limits.total() + ") are being computed; try again shortly");
        }
        return () -> {
            running.decrementAndGet();
            own.decrementAndGet();
            requests.remove(requestId);
        };
    }

    /** Reports being computed now. */
    public int running() {
        return running.get();
    }
}
