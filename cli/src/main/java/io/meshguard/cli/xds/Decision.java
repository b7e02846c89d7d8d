package io.meshguard.cli.xds;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code approve|reject ID --reason R} of something held for a second person (a policy request, a held tool call): one
 * {@code POST <held>/<id>/<verb>} as the signed-in caller, so the server decides who may decide. The verb is the
 * subcommand's name.
 */
abstract class Decision implements Callable<Integer> {
    /** Prints a decision's answer; the exit code as {@link AdminAnswer#print}: 0 for 2xx, else 1. */
    interface Answer {
        int print(String what, HttpResponse<String> r) throws IOException;
    }

    @Parameters(index = "0", paramLabel = "ID")
    long id;

    @Option(names = "--reason", required = true, description = "Why (kept in the admin trail).")
    String reason;

    private final String held;
    private final Answer answer;

    @Mixin
    AdminOptions admin;

    @Spec
    CommandSpec spec;

    /** @param held the admin API's collection, e.g. {@code /policy-requests} */
    Decision(String held, Answer answer) {
        this.held = held;
        this.answer = answer;
    }

    @Override
    public Integer call() throws Exception {
        String verb = spec.name();
        return answer.print(
                verb, admin.client().send("POST", held + "/" + id + "/" + verb, AdminOptions.reason(reason)));
    }
}
