package io.meshguard.deploy.box;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * One action on several things at the same time, as a cluster acts on what one command changed (every workload a
 * {@code kubectl apply} changed rolls on its own, {@code kubectl scale} stops a Deployment's pods together): returns
 * once each is done, throwing the first failure.
 */
final class AtOnce {
    private AtOnce() {}

    /** What is done to each one. */
    interface Action<T> {
        void on(T item) throws Exception;
    }

    static <T> void each(Collection<T> items, Action<T> action) throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> done = new ArrayList<>();
            for (T item : items) {
                done.add(pool.submit(() -> {
                    action.on(item);
                    return null;
                }));
            }
            for (Future<?> f : done) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            }
        }
    }
}
