package io.meshguard.xds.validate;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.meshguard.envoy.validation.EnvoyValidator;
import io.meshguard.envoy.validation.Violation;
import io.meshguard.xds.snapshot.FailFastListeners;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.RecentTables;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Every resource of one group, as each kind of node receives it, through the checks Envoy makes when it loads a
 * resource ({@link EnvoyValidator}): the resources grpc-java clients get (Envoy nodes get the same without the
 * {@code api_listener}s) and the variant for clients without ext_authz (grpc-js, {@link FailFastListeners}). One
 * violation would make every node of the group NACK the whole response, so each is an error.
 */
public final class EnvoyLoadCheck {
    /**
     * How much of the resources checked is remembered with its verdict, in their serialized bytes. A one-route publish
     * checks every resource of the group two or three times (the draft's validation, the build with the deployment's
     * filter targets, both variants) and again on the next change; all but the changed ones equal resources checked
     * before, so their verdict is reused (the checks read the resource's content only). Bounded in bytes, not entries:
     * a group's route configuration holds all its routes, and each publish makes a new one.
     */
    static final long REMEMBERED_BYTES = 64L * 1024 * 1024;

    /** Least recently used first. */
    private static final Map<Message, List<Violation>> VERDICTS = new LinkedHashMap<>(1024, 0.75f, true);

    private static long rememberedBytes;

    private EnvoyLoadCheck() {}

    /** The violations of {@code resources}, one problem each, with the resource and field in the path. */
    public static List<Problem> problems(GroupResources resources) {
        Set<Problem> out = new LinkedHashSet<>();
        check(resources, out);
        check(FailFastListeners.of(resources), out);
        return List.copyOf(out);
    }

    private static void check(GroupResources r, Set<Problem> out) {
        String group = "groups[" + r.group() + "]";
        each(group + ".lds", r.listeners(), Listener::getName, out);
        each(group + ".rds", r.routes(), RouteConfiguration::getName, out);
        each(group + ".cds", r.clusters(), Cluster::getName, out);
        each(group + ".eds", r.endpoints(), ClusterLoadAssignment::getClusterName, out);
    }

    private static <T extends Message> void each(
            String where, List<T> resources, Function<T, String> name, Set<Problem> out) {
        if (CLEAN.containsKey(resources)) {
            return;
        }
        boolean clean = true;
        for (T resource : resources) {
            List<Violation> found =
                    resource instanceof RouteConfiguration table ? tableViolations(table) : violations(resource);
            for (Violation v : found) {
                clean = false;
                out.add(Problem.error(
                        ProblemCode.ENVOY_REFUSES,
                        where + "[" + name.apply(resource) + "]." + v.path(),
                        v.message() + " (rule " + v.rule() + "; " + v.code() + ")"));
            }
        }
        if (clean) {
            CLEAN.put(resources, Boolean.TRUE);
        }
    }

    /**
     * Resource lists, virtual hosts and routes found without a violation, by identity (weakly; all immutable): a
     * one-route change keeps its group's listener, cluster and load-assignment lists and, in its new route tables, the
     * virtual hosts built before but for the changed ones, so those are answered without looking up,
     * hashing or sizing each resource again.
     */
    private static final Map<Object, Boolean> CLEAN = io.meshguard.xds.model.SameInstance.weaklyRemembered();

    /**
     * The parts of a resource whose verdict is remembered too: each virtual host of a route table, and each route. A
     * group's table holds all its routes, so a one-route change makes a new table: only its changed virtual host and
     * route are walked again, the other virtual hosts answer from here whole, not route by route (a
     * publish's cost grows with the change, not with the group). Their verdicts depend on their content alone: the
     * rules are the API's own, per message.
     */
    private static final EnvoyValidator.Parts TABLE_PARTS = new EnvoyValidator.Parts() {
        @Override
        public boolean remembers(Descriptor type) {
            return type == Route.getDescriptor() || type == VirtualHost.getDescriptor();
        }

        @Override
        public List<Violation> verdict(Message part, Function<Message, List<Violation>> check) {
            if (CLEAN.containsKey(part)) {
                return List.of();
            }
            List<Violation> found = remembered(part, check);
            if (found.isEmpty()) {
                CLEAN.put(part, Boolean.TRUE);
            }
            return found;
        }
    };

    /**
     * The last route tables of each name found clean: a one-route change's new table is one of them with a virtual
     * host or two replaced, so only those are checked ({@link EnvoyValidator#validateChangedItems}), not the table
     * hashed, sized and each of its hundreds of virtual hosts looked up.
     */
    private static final RecentTables CLEAN_TABLES = new RecentTables();

    private static final com.google.protobuf.Descriptors.FieldDescriptor VIRTUAL_HOSTS =
            RouteConfiguration.getDescriptor().findFieldByNumber(RouteConfiguration.VIRTUAL_HOSTS_FIELD_NUMBER);

    /** {@link #violations} of a route table, walking only what changed since the last clean table of its name. */
    static List<Violation> tableViolations(RouteConfiguration table) {
        Optional<RouteConfiguration> last = CLEAN_TABLES.closest(table, t -> true);
        List<Violation> found = last.flatMap(
                        t -> EnvoyValidator.validateChangedItems(table, t, VIRTUAL_HOSTS, TABLE_PARTS))
                .orElseGet(() -> violations(table));
        if (found.isEmpty()) {
            CLEAN_TABLES.remember(table);
        }
        return found;
    }

    /** How many checks walked a resource, virtual host or route anew (not a remembered verdict): what a change costs. */
    private static final java.util.concurrent.atomic.AtomicLong WALKED = new java.util.concurrent.atomic.AtomicLong();

    /** {@link EnvoyValidator#validate} of {@code resource}, or its verdict on an equal resource checked before. */
    static List<Violation> violations(Message resource) {
        return remembered(resource, r -> EnvoyValidator.validate(r, TABLE_PARTS));
    }

    /** The number of resources, virtual hosts and routes walked anew so far (monotonic; compare two readings). */
    public static long walked() {
        return WALKED.get();
    }

    private static List<Violation> remembered(Message resource, Function<Message, List<Violation>> check) {
        // both memoized by protobuf: computed here, outside the lock
        var unused = resource.hashCode();
        int bytes = resource.getSerializedSize();
        synchronized (VERDICTS) {
            List<Violation> known = VERDICTS.get(resource);
            if (known != null) {
                return known;
            }
        }
        // checked outside the lock: concurrent publishes and validations do not wait on each other's checks
        WALKED.incrementAndGet();
        List<Violation> found = List.copyOf(check.apply(resource));
        if (bytes > REMEMBERED_BYTES / 4) {
            return found;
        }
        synchronized (VERDICTS) {
            if (VERDICTS.put(resource, found) == null) {
                rememberedBytes += bytes;
            }
            Iterator<Message> eldest = VERDICTS.keySet().iterator();
            while (rememberedBytes > REMEMBERED_BYTES && eldest.hasNext()) {
                rememberedBytes -= eldest.next().getSerializedSize();
                eldest.remove();
            }
        }
        return found;
    }
}
