package io.meshguard.runtime.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One setting: a dotted snake_case name ({@code grpc.max_inbound_message_bytes}), its type, default and a
 * one-line description for the configuration reference. In YAML the dots are nesting levels; in the
 * environment the name becomes {@code MESHGUARD_GRPC_MAX_INBOUND_MESSAGE_BYTES}.
 */
public record ConfigKey<T>(String name, ConfigType<T> type, T defaultValue, String description) {
    /** Prefix of every environment variable that overrides a setting. */
    public static final String ENV_PREFIX = "MESHGUARD_";

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*");

    public ConfigKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(defaultValue, "defaultValue");
        Objects.requireNonNull(description, "description");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("config key must be dotted snake_case: " + name);
        }
        if (description.isBlank()) {
            throw new IllegalArgumentException("config key needs a description: " + name);
        }
        // The default must be a value the type itself would accept, so the docs never show an impossible one.
        type.parse(type.format(defaultValue));
    }

    /** {@code MESHGUARD_} plus the name in upper case with dots as underscores. */
    public String envVar() {
        return envVar(ENV_PREFIX);
    }

    /** The environment variable for this key under another prefix. */
    public String envVar(String prefix) {
        return prefix + name.replace('.', '_').toUpperCase(Locale.ROOT);
    }

    /** The default as a user would write it. */
    public String formattedDefault() {
        return type.format(defaultValue);
    }

    /** An integer setting within {@code [min, max]}. */
    public static ConfigKey<Integer> integer(String name, int defaultValue, int min, int max, String description) {
        return new ConfigKey<>(name, ConfigType.integer(min, max), defaultValue, description);
    }

    /** A long setting within {@code [min, max]}. */
    public static ConfigKey<Long> longInteger(String name, long defaultValue, long min, long max, String description) {
        return new ConfigKey<>(name, ConfigType.longInteger(min, max), defaultValue, description);
    }

    /** A text setting. */
    public static ConfigKey<String> string(String name, String defaultValue, String description) {
        return new ConfigKey<>(name, ConfigType.string(), defaultValue, description);
    }

    /** A true/false setting. */
    public static ConfigKey<Boolean> bool(String name, boolean defaultValue, String description) {
        return new ConfigKey<>(name, ConfigType.bool(), defaultValue, description);
    }

    /** A duration setting ({@code 300ms}, {@code 5s}, {@code 2m}, {@code 1h}). */
    public static ConfigKey<Duration> duration(String name, Duration defaultValue, String description) {
        return new ConfigKey<>(name, ConfigType.duration(), defaultValue, description);
    }

    /** A duration setting that can be turned {@code off}. */
    public static ConfigKey<Optional<Duration>> optionalDuration(
            String name, Optional<Duration> defaultValue, String description) {
        return new ConfigKey<>(name, ConfigType.optional(ConfigType.duration(), "off"), defaultValue, description);
    }

    /** A byte-size setting ({@code 4MiB}, {@code 512KiB}, plain bytes) within {@code [min, max]}. */
    public static ConfigKey<Long> byteSize(String name, long defaultValue, long min, long max, String description) {
        return new ConfigKey<>(name, ConfigType.byteSize(min, max), defaultValue, description);
    }

    /** A setting that takes one of {@code allowed}. */
    public static ConfigKey<String> oneOf(String name, String defaultValue, List<String> allowed, String description) {
        return new ConfigKey<>(name, ConfigType.oneOf(allowed), defaultValue, description);
    }

    /** A path setting. */
    public static ConfigKey<Path> path(String name, Path defaultValue, String description) {
        return new ConfigKey<>(name, ConfigType.path(), defaultValue, description);
    }

    /** A path setting that may be left unset (empty). */
    public static ConfigKey<Optional<Path>> optionalPath(String name, String description) {
        return new ConfigKey<>(name, ConfigType.optional(ConfigType.path(), ""), Optional.empty(), description);
    }

    /** A list-of-strings setting. */
    public static ConfigKey<List<String>> stringList(String name, List<String> defaultValue, String description) {
        return new ConfigKey<>(name, ConfigType.stringList(), List.copyOf(defaultValue), description);
    }
}
