package io.meshguard.cli.xds;

import io.meshguard.xds.admin.AdminApi;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code meshguard xds publish --reason R}: the admin API's {@code POST /publish}, nothing more, so that what the
 * server requires of a publish (permission, validation, approvals) is what the command gets.
 */
@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description = "Publish the controller's draft to every gateway group (POST /publish), or to one (--group).")
public final class XdsPublishCommand implements Callable<Integer> {
    @Mixin
    AdminOptions admin;

    @Option(
            names = "--reason",
            required = true,
            description = "Why (recorded with the revision and in the admin trail).")
    String reason;

    @Option(
            names = "--group",
            paramLabel = "GROUP",
            description =
                    "Publish this gateway group alone (POST"
                            + " /groups/GROUP/publish: what its gateway owners may do); the other groups keep serving what they serve.")
    String group;

    @Override
    public Integer call() throws Exception {
        String path = group == null ? "/publish" : "/groups/" + AdminOptions.segment(group) + "/publish";
        HttpResponse<String> r = admin.client().send("POST", path, AdminOptions.reason(reason));
        if (r.statusCode() == 200) {
            com.fasterxml.jackson.databind.JsonNode answer =
                    io.meshguard.xds.model.ConfigJson.mapper().readTree(r.body());
            if (answer.path("revisions").isEmpty() && answer.path("requests").isEmpty()) {
                // an unchanged draft: say so instead of printing an empty list that reads like success
                System.out.println(answer.path("note").asText(AdminApi.NOTHING_TO_PUBLISH));
                return 0;
            }
        }
        return AdminAnswer.print("publish", r);
    }
}
