package io.meshguard.cli.xds;

import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.net.http.HttpResponse;

/** The admin API's answer as the thin xds commands print it: pretty JSON on success, status and body otherwise. */
final class AdminAnswer {
    private AdminAnswer() {}

    /** Prints {@code r}; the exit code: 0 for a 2xx answer, else 1. */
    static int print(String what, HttpResponse<String> r) throws IOException {
        if (r.statusCode() / 100 != 2) {
            System.err.println(what + " refused (" + r.statusCode() + "): " + r.body());
            return 1;
        }
        System.out.println(ConfigJson.mapper()
                .writerWithDefaultPrettyPrinter()
                .writeValueAsString(ConfigJson.mapper().readTree(r.body())));
        return 0;
    }
}
