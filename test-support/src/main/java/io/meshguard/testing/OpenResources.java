package io.meshguard.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test opened (servers, channels, clients), closed in the reverse order on {@link #close}: a field
 * {@code @AutoClose final OpenResources open = new OpenResources();} replaces a list and its {@code @AfterEach}.
 */
public final class OpenResources implements AutoCloseable {
    private final List<AutoCloseable> open = new ArrayList<>();

    /** Keeps {@code resource} to close with the others, and returns it. */
    public synchronized <T extends AutoCloseable> T add(T resource) {
        open.add(resource);
        return resource;
    }

    /** Closes {@code resource} now (a test that stops a server halfway), and not again with the others. */
    public void closeNow(AutoCloseable resource) throws Exception {
        synchronized (this) {
            open.remove(resource);
        }
        resource.close();
    }

    /** How many are open. */
    public synchronized int size() {
        return open.size();
    }

    /** Closes everything added, the last first; each is closed even when one before it throws. */
    @Override
    public void close() throws Exception {
        List<AutoCloseable> all;
        synchronized (this) {
            all = List.copyOf(open.reversed());
            open.clear();
        }
        Exception first = null;
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
