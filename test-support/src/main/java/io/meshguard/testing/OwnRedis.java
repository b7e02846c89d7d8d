package io.meshguard.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Redis server of the test class's own ({@link EmbeddedRedis}), started before its first test and closed after its
 * last: for tests that stop, pause or flush the server, which the JVM's {@link SharedRedis} must never see. Register
 * it as {@code @RegisterExtension static final OwnRedis REDIS = new OwnRedis();}.
 */
public final class OwnRedis implements BeforeAllCallback, AfterAllCallback {
    private EmbeddedRedis server;

    @Override
    public void beforeAll(ExtensionContext context) {
        server = EmbeddedRedis.start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        server.close();
    }

    /** The running server (between the class's first and last test). */
    public EmbeddedRedis server() {
        if (server == null) {
            throw new IllegalStateException("OwnRedis is started by @RegisterExtension on a static field");
        }
        return server;
    }
}
