package io.meshguard.cli.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.cli.xds.AdminOptions;
import io.meshguard.xds.model.ConfigJson;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code meshguard api delete NAME --group G}: what {@code api create} made, removed from the draft through the admin
 * API as the caller: the API's routes in the group, then the API and its upstream (each refused by the admin API while
 * something else still names it, and then kept).
 */
@Command(
        name = "delete",
        mixinStandardHelpOptions = true,
        description =
                "Remove an API's routes in a gateway group's draft, then the API and its upstream (what `api create`"
                        + " made); an object still named elsewhere is kept and said so. Served until the group is published.")
public final class ApiDeleteCommand implements Callable<Integer> {
    @Mixin
    ApiPlacement api;

    @Mixin
    AdminOptions admin;

    @Override
    public Integer call() throws Exception {
        AdminClient client = admin.client();
        String name = api.name;
        String group = api.group;
        HttpResponse<String> listed = client.send("GET", "/routes", null);
        if (listed.statusCode() != 200) {
            System.err.println("GET /routes refused (" + listed.statusCode() + "): "
                    + listed.body().strip());
            return 1;
        }
        List<String> paths = new ArrayList<>();
        for (JsonNode r : ConfigJson.mapper().readTree(listed.body())) {
            if (r.path("group").asText().equals(group) && r.path("api").asText().equals(name)) {
                paths.add("/routes/" + AdminOptions.segment(group) + "/"
                        + AdminOptions.segment(r.path("name").asText()));
            }
        }
        paths.add("/apis/" + AdminOptions.segment(name));
        paths.add("/upstreams/" + AdminOptions.segment(api.upstreamName()));
        int exit = 0;
        for (String path : paths) {
            HttpResponse<String> r = client.send("DELETE", path, null);
            String what = path.substring(1, path.indexOf('/', 1) - 1) + " " + path.substring(path.indexOf('/', 1) + 1);
            if (r.statusCode() / 100 == 2) {
                System.out.println(what + " deleted");
            } else if (r.statusCode() == 404) {
                System.out.println(what + " absent");
            } else {
                System.out.println(what + " kept: refused (" + r.statusCode() + "): "
                        + r.body().strip());
                exit = 1;
            }
        }
        System.out.println("the draft changed; publish group " + group
                + " so its gateways stop serving them: meshguard xds publish --group " + group + " --reason \"...\"");
        return exit;
    }
}
