package io.meshguard.cli.xds;

import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshguard xds rollback REVISION --reason R}: the admin API's {@code POST /rollback/{revision}}: the group of
 * that revision serves it again as a new revision; the draft is left as it is (the answer says when it differs).
 */
@Command(
        name = "rollback",
        mixinStandardHelpOptions = true,
        description = "Serve an earlier published revision again (POST /rollback/REVISION); the draft is unchanged.")
public final class XdsRollbackCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "REVISION", description = "The revision to serve again (see GET /revisions).")
    long revision;

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
            description = "The revision's gateway group (POST"
                    + " /groups/GROUP/rollback/REVISION: what its gateway owners may do).")
    String group;

    @Override
    public Integer call() throws Exception {
        String path = group == null
                ? "/rollback/" + revision
                : "/groups/" + AdminOptions.segment(group) + "/rollback/" + revision;
        HttpResponse<String> r = admin.client().send("POST", path, AdminOptions.reason(reason));
        return AdminAnswer.print("rollback", r);
    }
}
