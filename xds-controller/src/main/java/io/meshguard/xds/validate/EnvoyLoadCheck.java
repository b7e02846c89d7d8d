package io.meshguard.xds.validate;

import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.meshguard.envoy.validation.EnvoyValidator;
import io.meshguard.envoy.validation.Violation;
import io.meshguard.xds.snapshot.FailFastListeners;
import io.meshguard.xds.snapshot.GroupResources;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Every resource of one group, as each kind of node receives it, through the checks Envoy makes when it loads a
 * resource ({@link EnvoyValidator}): the resources grpc-java clients get (Envoy nodes get the same without the
 * {@code api_listener}s) and the variant for clients without ext_authz (grpc-js, {@link FailFastListeners}). One
 * violation would make every node of the group NACK the whole response, so each is an error.
 */
public final class EnvoyLoadCheck {
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
        for (T resource : resources) {
            for (Violation v : EnvoyValidator.validate(resource)) {
                out.add(Problem.error(
                        ProblemCode.ENVOY_REFUSES,
                        where + "[" + name.apply(resource) + "]." + v.path(),
                        v.message() + " (rule " + v.rule() + "; " + v.code() + ")"));
            }
        }
    }
}
