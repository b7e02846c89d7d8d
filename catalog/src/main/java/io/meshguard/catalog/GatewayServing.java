package io.meshguard.catalog;

import io.meshguard.access.AuthMethod;
import io.meshguard.access.Person;
import io.meshguard.catalogmodel.ServedProduct;
import java.util.List;
import java.util.Optional;

/**
 * Makes a gateway group serve the product publishes it now has: one revision of the group (diff, four eyes and rollback
 * are those of every publish), or a publish request where the group is protected. The xDS controller implements it;
 * the catalogue calls it inside the transaction that moves a publish, so a publish the gateway refuses is not moved.
 */
@FunctionalInterface
public interface GatewayServing {

    /**
     * Who asked, why, and the request it came with: the revision and the admin trail record them; {@code person} is
     * who asked for four eyes (never the approver of its own request).
     */
    record Change(String actor, String reason, String requestId, Person person) {
        /** A change by a token-file name (tests, benches, the local stack). */
        public Change(String actor, String reason, String requestId) {
            this(actor, reason, requestId, new Person("token " + actor, actor, AuthMethod.LOCAL));
        }
    }

    /**
     * What the gateway did: the revision that serves the group now, or the publish request that waits for a second
     * person (protected groups).
     */
    record Served(Optional<Long> revision, Optional<Long> request) {
        public Served {
            if (revision.isPresent() == request.isPresent()) {
                throw new IllegalArgumentException("served by a revision or waiting in a request, exactly one");
            }
        }
    }

    /**
     * Serves {@code publish} ({@code serve}) or stops serving it, with every other publish its group serves now.
     *
     * @throws CatalogRefusal when the gateway cannot serve them (an operation no route of its API serves, a draft with
     *     unpublished changes in the way); nothing is served then
     */
    Served serve(ServedProduct publish, boolean serve, Change change);

    /**
     * One way to call an operation of a publish, as its gateway group serves it now.
     *
     * @param path the path a client sends: the API's base path, the version, the operation's path (its {@code {x}}
     *     parameters kept; a trailing {@code *} of a prefix operation kept)
     * @param deprecated the version is deprecated (answered with Deprecation and Sunset headers)
     */
    record ServedOperation(String operation, String method, String path, String version, boolean deprecated) {
        public ServedOperation {
            java.util.Objects.requireNonNull(operation, "operation");
            java.util.Objects.requireNonNull(method, "method");
            java.util.Objects.requireNonNull(path, "path");
            java.util.Objects.requireNonNull(version, "version");
        }
    }

    /**
     * The operations {@code publish} is served with in its group's live revision: what a client can call now, so a
     * version only a draft has, or one sunset or retired, is not among them. A gateway that serves nothing of the
     * publish answers none.
     */
    default List<ServedOperation> servedOperations(ServedProduct publish) {
        return List.of();
    }
}
