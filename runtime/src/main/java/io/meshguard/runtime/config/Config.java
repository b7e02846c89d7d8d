package io.meshguard.runtime.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Validated settings of one server: a value for every key of its {@link ConfigSchema}, and where each value
 * came from. Made by {@link ConfigLoader}.
 */
public final class Config {
    private final ConfigSchema schema;
    private final Map<String, Value> values;

    /** One resolved setting. */
    public record Value(ConfigKey<?> key, Object value, ConfigSource source) {
        /** The value as a user would write it. */
        @SuppressWarnings({"unchecked", "rawtypes"})
        public String formatted() {
            return ((ConfigType) key.type()).format(value);
        }
    }

    Config(ConfigSchema schema, Map<String, Value> values) {
        this.schema = schema;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Every key at its default, e.g. for tests and for tools that need no file. */
    public static Config defaults(ConfigSchema schema) {
        Map<String, Value> values = new LinkedHashMap<>();
        for (ConfigKey<?> key : schema.keys()) {
            values.put(key.name(), new Value(key, key.defaultValue(), new ConfigSource.Default()));
        }
        return new Config(schema, values);
    }

    /** The schema this config was validated against. */
    public ConfigSchema schema() {
        return schema;
    }

    /**
     * The value of {@code key}.
     *
     * @throws IllegalArgumentException when the schema has no key of that name and type (a wiring mistake)
     */
    public <T> T get(ConfigKey<T> key) {
        Value value = lookup(key);
        @SuppressWarnings("unchecked")
        T typed = (T) value.value();
        return typed;
    }

    /** Where the value of {@code key} came from. */
    public ConfigSource source(ConfigKey<?> key) {
        return lookup(key).source();
    }

    /** Every setting in schema order, for a start-up log line or a "show config" command. */
    public List<Value> values() {
        return new ArrayList<>(values.values());
    }

    private Value lookup(ConfigKey<?> key) {
        Value value = values.get(key.name());
        if (value == null) {
            throw new IllegalArgumentException("config key " + key.name() + " is not in this server's schema");
        }
        if (!value.key().type().equals(key.type())) {
            throw new IllegalArgumentException("config key " + key.name() + " is declared as "
                    + value.key().type() + " in the schema, not " + key.type());
        }
        return value;
    }
}
