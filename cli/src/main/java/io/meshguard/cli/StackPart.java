package io.meshguard.cli;

import io.meshguard.runtime.lifecycle.ServerComponent;
import java.util.List;

/**
 * One server that {@code meshguard up} runs in its process (extauthz, DLP, xDS controller, audit). Parts are
 * listed in {@link StackParts}; a new server joins the local stack by adding itself there.
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
}
