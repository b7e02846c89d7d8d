package io.meshguard.emulator;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/** An ordered HTTP header map with lower-case names and repeated names kept apart, as Envoy's HeaderMap. */
public final class Headers {
    private final List<String[]> entries = new ArrayList<>();

    public static Headers of(String... namesAndValues) {
        Headers h = new Headers();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            h.add(namesAndValues[i], namesAndValues[i + 1]);
        }
        return h;
    }

    public Headers copy() {
        Headers h = new Headers();
        entries.forEach(e -> h.add(e[0], e[1]));
        return h;
    }

    public void add(String name, String value) {
        entries.add(new String[] {name.toLowerCase(Locale.ROOT), value});
    }

    /** Replaces every value of {@code name} with one. */
    public void set(String name, String value) {
        remove(name);
        add(name, value);
    }

    public void remove(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        entries.removeIf(e -> e[0].equals(n));
    }

    public boolean has(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return entries.stream().anyMatch(e -> e[0].equals(n));
    }

    public Optional<String> first(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return entries.stream().filter(e -> e[0].equals(n)).map(e -> e[1]).findFirst();
    }

    public List<String> all(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return entries.stream().filter(e -> e[0].equals(n)).map(e -> e[1]).toList();
    }

    /** All values of {@code name} joined with "," as Envoy joins them for matching and the ext_authz map. */
    public Optional<String> joined(String name) {
        List<String> values = all(name);
        return values.isEmpty() ? Optional.empty() : Optional.of(String.join(",", values));
    }

    /** name/value pairs in order. */
    public List<String[]> entries() {
        return entries.stream().map(e -> new String[] {e[0], e[1]}).toList();
    }

    public List<String> names() {
        return entries.stream().map(e -> e[0]).distinct().toList();
    }

    @Override
    public String toString() {
        return entries.stream().map(e -> e[0] + ": " + e[1]).collect(Collectors.joining(", ", "{", "}"));
    }
}
