package io.meshguard.cli.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.function.BiFunction;

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

    /**
     * Prints a list answer as a table: {@code headings} in {@code format}, then one line of {@code row}'s cells per
     * element, people by name ({@link People}); {@code none} alone when the list is empty. Any other answer than 200 as {@link #print} prints it.
     */
    static int table(
            String what,
            HttpResponse<String> r,
            String none,
            String format,
            Object[] headings,
            BiFunction<People, JsonNode, Object[]> row)
            throws IOException {
        if (r.statusCode() != 200) {
            return print(what, r);
        }
        JsonNode items = ConfigJson.mapper().readTree(r.body());
        if (items.isEmpty()) {
            System.out.println(none);
            return 0;
        }
        System.out.printf(format, headings);
        People people = People.in(items, "requested_by", "decided_by", "approved_by");
        for (JsonNode item : items) {
            System.out.printf(format, row.apply(people, item));
        }
        return 0;
    }
}
