package io.meshguard.runtime.logging;

import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Routes {@code java.util.logging} (used by grpc-java) into SLF4J, so its warnings come out as the same
 * JSON lines as everything else instead of two-line JUL text on stderr. {@code logback.xml}'s
 * {@code LevelChangePropagator} keeps JUL's levels in step with Logback's, so disabled levels cost nothing.
 * Call once at the start of {@code main}.
 */
public final class JulBridge {
    private JulBridge() {}

    /** Installs the bridge (idempotent). */
    public static synchronized void install() {
        if (!SLF4JBridgeHandler.isInstalled()) {
            SLF4JBridgeHandler.removeHandlersForRootLogger();
            SLF4JBridgeHandler.install();
        }
    }
}
