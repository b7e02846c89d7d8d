package io.meshguard.cli.xds;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * People as the console names them: the admin plane records an actor as "name (subject)" ({@code AdminCaller.actor()})
 * so the trail can tell two people apart, but a reader wants "sally". The subject is printed only where one answer
 * names two people of the same display name, the one case a name alone would mislead; {@code --json} keeps the actors
 * as recorded.
 */
final class People {
    private static final Pattern NAMED = Pattern.compile("(.+) \\(([^()]+)\\)");

    private final Set<String> shared;

    private People(Set<String> shared) {
        this.shared = shared;
    }

    /** The people of one answer: each of {@code items}' {@code fields}, a text or an array of texts. */
    static People in(Iterable<JsonNode> items, String... fields) {
        Stream.Builder<String> actors = Stream.builder();
        for (JsonNode item : items) {
            for (String field : fields) {
                JsonNode value = item.path(field);
                if (value.isArray()) {
                    value.forEach(v -> actors.add(v.asText()));
                } else if (value.isTextual()) {
                    actors.add(value.asText());
                }
            }
        }
        return of(actors.build());
    }

    static People of(Stream<String> actors) {
        Map<String, Set<String>> subjects = new HashMap<>();
        actors.forEach(actor -> {
            Matcher m = NAMED.matcher(actor);
            if (m.matches()) {
                subjects.computeIfAbsent(m.group(1), n -> new HashSet<>()).add(m.group(2));
            }
        });
        Set<String> shared = new HashSet<>();
        subjects.forEach((name, ids) -> {
            if (ids.size() > 1) {
                shared.add(name);
            }
        });
        return new People(shared);
    }

    /** How {@code actor} reads here: its name, or the actor whole where another person has that name. */
    String name(String actor) {
        Matcher m = NAMED.matcher(actor);
        return m.matches() && !shared.contains(m.group(1)) ? m.group(1) : actor;
    }
}
