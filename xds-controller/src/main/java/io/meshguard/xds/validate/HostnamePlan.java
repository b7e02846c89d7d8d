package io.meshguard.xds.validate;

import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayGroup;
import java.util.List;

/** Which hostnames an API is served on: its own, else its group's, else the one the group's template generates. */
public final class HostnamePlan {
    private HostnamePlan() {}

    public static List<String> hostnames(GatewayGroup group, Api api) {
        if (!api.hostnames().isEmpty()) {
            return api.hostnames();
        }
        if (!group.hostnames().isEmpty()) {
            return group.hostnames();
        }
        return List.of(group.generatedHostname(api.name()));
    }
}
