package io.meshguard.devstack.part;

import io.meshguard.cli.common.RunningStack;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One server that {@code meshguard up} runs in its process (extauthz, DLP, xDS controller, audit). Parts are
 * listed in {@link io.meshguard.devstack.StackParts}; a new server joins the local stack by adding itself there.
 */
public interface StackPart {

    /** Short name shown in the start-up listing, e.g. {@code extauthz}. */
    String name();

    /**
     * Builds the components to start, in order (for example policy watcher, gRPC host, HTTP listener). They are
     * started by {@code up} and closed in reverse order on shutdown.
     */
    List<ServerComponent> components(StackContext context) throws Exception;

    /** Where the started part listens, one line each, e.g. {@code gRPC 127.0.0.1:9001 (ext_authz Check)}. */
    List<String> endpoints();

    /**
     * The ports the started part listens on, by the names {@link RunningStack} knows ({@link RunningStack#EXTAUTHZ}
     * …); written to {@code up.json} so that other commands find them.
     */
    default Map<String, Integer> ports() {
        return Map.of();
    }

    /** Local files other commands need (a token), by the names {@link RunningStack} knows. */
    default Map<String, Path> files() {
        return Map.of();
    }
}
