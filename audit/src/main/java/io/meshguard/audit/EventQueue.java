package io.meshguard.audit;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounded multi-producer queue without locks: producers never park, so {@link #offer} costs a CAS or two and an
 * allocation, whatever the consumer is doing.
 */
final class EventQueue {
    private final ConcurrentLinkedQueue<AuditEvent> items = new ConcurrentLinkedQueue<>();
    private final AtomicInteger size = new AtomicInteger();
    private final int capacity;

    EventQueue(int capacity) {
        this.capacity = capacity;
    }

    /** Adds unless full; returns the size after adding, or -1 when full. */
    int offer(AuditEvent e) {
        int after = size.incrementAndGet();
        if (after > capacity) {
            size.decrementAndGet();
            return -1;
        }
        items.offer(e);
        return after;
    }

    AuditEvent poll() {
        AuditEvent e = items.poll();
        if (e != null) {
            size.decrementAndGet();
        }
        return e;
    }

    int size() {
        return Math.max(0, size.get());
    }

    boolean isEmpty() {
        return items.isEmpty();
    }
}
