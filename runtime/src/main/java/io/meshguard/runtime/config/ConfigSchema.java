package io.meshguard.runtime.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * All settings one server understands, in documentation order. Built from keys and {@link ConfigGroup}s;
 * rejects two keys with the same name, two keys that map to the same environment variable, and a key that
 * is also the parent of another ({@code grpc} and {@code grpc.port} cannot both be values in YAML).
 */
public final class ConfigSchema {
    private final Map<String, ConfigKey<?>> keys;

    private ConfigSchema(Map<String, ConfigKey<?>> keys) {
        this.keys = Collections.unmodifiableMap(new LinkedHashMap<>(keys));
    }

    /** Starts an empty schema. */
    public static Builder builder() {
        return new Builder();
    }

    /** Every key, in the order added. */
    public List<ConfigKey<?>> keys() {
        return List.copyOf(keys.values());
    }

    /** The key with this dotted name. */
    public Optional<ConfigKey<?>> find(String name) {
        return Optional.ofNullable(keys.get(name));
    }

    /** Names of every key. */
    public Collection<String> names() {
        return keys.keySet();
    }

    /** True when {@code prefix} is the parent of some key ({@code grpc} for {@code grpc.port}). */
    boolean isParent(String prefix) {
        String dotted = prefix + ".";
        return keys.keySet().stream().anyMatch(k -> k.startsWith(dotted));
    }

    /**
     * The configuration reference as a Markdown table: {@code | key | env | default | description |}, one row
     * per key in schema order. Pipes inside cells are escaped.
     */
    public String toMarkdownTable() {
        StringBuilder table = new StringBuilder("| key | env | default | description |\n|---|---|---|---|\n");
        for (ConfigKey<?> key : keys.values()) {
            table.append("| `")
                    .append(key.name())
                    .append("` | `")
                    .append(key.envVar())
                    .append("` | ")
                    .append(cell(key.formattedDefault()))
                    .append(" | ")
                    .append(key.description().replace("|", "\\|"))
                    .append(" |\n");
        }
        return table.toString();
    }

    private static String cell(String value) {
        return value.isEmpty() ? "" : "`" + value.replace("|", "\\|") + "`";
    }

    /** Collects keys; {@link #build()} checks them. */
    public static final class Builder {
        private final List<ConfigKey<?>> keys = new ArrayList<>();

        private Builder() {}

        /** Adds keys. */
        public Builder add(ConfigKey<?>... more) {
            keys.addAll(List.of(more));
            return this;
        }

        /** Adds keys. */
        public Builder addAll(Collection<? extends ConfigKey<?>> more) {
            keys.addAll(more);
            return this;
        }

        /** Adds every key of a group. */
        public Builder add(ConfigGroup<?> group) {
            keys.addAll(group.keys());
            return this;
        }

        /**
         * The schema.
         *
         * @throws IllegalArgumentException when two keys share a name or an environment variable, or one key
         *     is the parent of another
         */
        public ConfigSchema build() {
            Map<String, ConfigKey<?>> byName = new LinkedHashMap<>();
            Map<String, String> byEnv = new LinkedHashMap<>();
            for (ConfigKey<?> key : keys) {
                if (byName.putIfAbsent(key.name(), key) != null) {
                    throw new IllegalArgumentException("duplicate config key: " + key.name());
                }
                String other = byEnv.putIfAbsent(key.envVar(), key.name());
                if (other != null) {
                    throw new IllegalArgumentException(
                            "config keys " + other + " and " + key.name() + " both map to " + key.envVar());
                }
            }
            for (String name : byName.keySet()) {
                for (String other : byName.keySet()) {
                    if (other.startsWith(name + ".")) {
                        throw new IllegalArgumentException("config key " + name + " is also the parent of " + other);
                    }
                }
            }
            return new ConfigSchema(byName);
        }
    }
}
