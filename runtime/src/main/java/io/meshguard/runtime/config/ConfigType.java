package io.meshguard.runtime.config;

import io.meshguard.runtime.yaml.YamlNode;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a setting's text (from YAML or an environment variable) becomes a typed value, and back for the
 * documentation. Types are records so two keys of the same name and type compare equal.
 *
 * <p>{@link #parse(String)} and {@link #fromYaml(YamlNode)} throw {@link IllegalArgumentException} whose
 * message says what was expected and what was found; the loader adds the key and location.
 */
public sealed interface ConfigType<T> {

    /** Converts the text of an environment variable (or a YAML scalar). */
    T parse(String text);

    /** Renders a value the way a user would write it ({@code 5s}, {@code 4MiB}). */
    String format(T value);

    /** Converts a YAML value; scalars go through {@link #parse(String)}. */
    default T fromYaml(YamlNode node) {
        if (!node.isScalar()) {
            throw new IllegalArgumentException(
                    "expected " + expected() + ", found " + node.kind().description());
        }
        return parse(node.asString().trim());
    }

    /** What a valid value looks like, for messages: "an integer between 1 and 65535". */
    String expected();

    /** Integers in {@code [min, max]}. */
    static ConfigType<Integer> integer(int min, int max) {
        return new IntType(min, max);
    }

    /** Longs in {@code [min, max]}. */
    static ConfigType<Long> longInteger(long min, long max) {
        return new LongType(min, max);
    }

    /** Any text. */
    static ConfigType<String> string() {
        return new StringType();
    }

    /** {@code true} or {@code false}. */
    static ConfigType<Boolean> bool() {
        return new BooleanType();
    }

    /** A non-negative duration with a unit: {@code 300ms}, {@code 5s}, {@code 2m}, {@code 1h}, {@code 1d}. */
    static ConfigType<Duration> duration() {
        return new DurationType();
    }

    /** A byte count: plain bytes or with a unit ({@code 512KiB}, {@code 4MiB}, {@code 1GiB}, {@code 10MB}). */
    static ConfigType<Long> byteSize(long min, long max) {
        return new ByteSizeType(min, max);
    }

    /** One of the given words (case-insensitive input, stored as given here). */
    static ConfigType<String> oneOf(List<String> allowed) {
        return new EnumType(List.copyOf(allowed));
    }

    /** A file system path. */
    static ConfigType<Path> path() {
        return new PathType();
    }

    /** A list of strings: a YAML list, or comma-separated text ({@code a,b,c}) in an environment variable. */
    static ConfigType<List<String>> stringList() {
        return new StringListType();
    }

    /**
     * An optional value: {@code absentWord} (e.g. {@code off}), an empty value or YAML {@code null} mean
     * "not set".
     */
    static <T> ConfigType<Optional<T>> optional(ConfigType<T> inner, String absentWord) {
        return new OptionalType<>(inner, absentWord);
    }

    /** See {@link ConfigType#integer(int, int)}. */
    record IntType(int min, int max) implements ConfigType<Integer> {
        @Override
        public Integer parse(String text) {
            long value = LongType.parseDecimal(text, this);
            if (value < min || value > max) {
                throw new IllegalArgumentException("expected " + expected() + ", found " + text);
            }
            return (int) value;
        }

        @Override
        public String format(Integer value) {
            return value.toString();
        }

        @Override
        public String expected() {
            return LongType.range("an integer", min, max, Integer.MIN_VALUE, Integer.MAX_VALUE);
        }
    }

    /** See {@link ConfigType#longInteger(long, long)}. */
    record LongType(long min, long max) implements ConfigType<Long> {
        private static final Pattern DECIMAL = Pattern.compile("[-+]?[0-9][0-9_]*");

        @Override
        public Long parse(String text) {
            long value = parseDecimal(text, this);
            if (value < min || value > max) {
                throw new IllegalArgumentException("expected " + expected() + ", found " + text);
            }
            return value;
        }

        @Override
        public String format(Long value) {
            return value.toString();
        }

        @Override
        public String expected() {
            return range("an integer", min, max, Long.MIN_VALUE, Long.MAX_VALUE);
        }

        static long parseDecimal(String text, ConfigType<?> type) {
            if (!DECIMAL.matcher(text).matches()) {
                throw new IllegalArgumentException("expected " + type.expected() + ", found '" + text + "'");
            }
            try {
                return Long.parseLong(text.replace("_", ""));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected " + type.expected() + ", found " + text);
            }
        }

        static String range(String noun, long min, long max, long lowest, long highest) {
            if (min == lowest && max == highest) {
                return noun;
            }
            if (max == highest) {
                return noun + " of at least " + min;
            }
            return noun + " between " + min + " and " + max;
        }
    }

    /** See {@link ConfigType#string()}. */
    record StringType() implements ConfigType<String> {
        @Override
        public String parse(String text) {
            return text;
        }

        @Override
        public String format(String value) {
            return value;
        }

        @Override
        public String expected() {
            return "text";
        }
    }

    /** See {@link ConfigType#bool()}. */
    record BooleanType() implements ConfigType<Boolean> {
        @Override
        public Boolean parse(String text) {
            if (text.equalsIgnoreCase("true")) {
                return true;
            }
            if (text.equalsIgnoreCase("false")) {
                return false;
            }
            throw new IllegalArgumentException("expected true or false, found '" + text + "'");
        }

        @Override
        public String format(Boolean value) {
            return value.toString();
        }

        @Override
        public String expected() {
            return "true or false";
        }
    }

    /** See {@link ConfigType#duration()}. */
    record DurationType() implements ConfigType<Duration> {
        private static final Pattern DURATION = Pattern.compile("([0-9]+)\\s*(ms|s|m|h|d)");

        @Override
        public Duration parse(String text) {
            if (text.equals("0")) {
                return Duration.ZERO;
            }
            Matcher m = DURATION.matcher(text.toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new IllegalArgumentException("expected " + expected() + ", found '" + text + "'");
            }
            try {
                long amount = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(amount);
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                };
            } catch (ArithmeticException | NumberFormatException e) {
                throw new IllegalArgumentException("duration too large: " + text);
            }
        }

        @Override
        public String format(Duration value) {
            long ms = value.toMillis();
            if (ms == 0) {
                return "0s";
            }
            if (ms % 86_400_000 == 0) {
                return ms / 86_400_000 + "d";
            }
            if (ms % 3_600_000 == 0) {
                return ms / 3_600_000 + "h";
            }
            if (ms % 60_000 == 0) {
                return ms / 60_000 + "m";
            }
            if (ms % 1000 == 0) {
                return ms / 1000 + "s";
            }
            return ms + "ms";
        }

        @Override
        public String expected() {
            return "a duration such as 300ms, 5s, 2m, 1h or 1d";
        }
    }

    /** See {@link ConfigType#byteSize(long, long)}. */
    record ByteSizeType(long min, long max) implements ConfigType<Long> {
        private static final Pattern SIZE = Pattern.compile("([0-9]+)\\s*(b|kb|kib|mb|mib|gb|gib)?");

        @Override
        public Long parse(String text) {
            Matcher m = SIZE.matcher(text.toLowerCase(Locale.ROOT));
            if (!m.matches()) {
                throw new IllegalArgumentException("expected " + expected() + ", found '" + text + "'");
            }
            long multiplier =
                    switch (m.group(2) == null ? "b" : m.group(2)) {
                        case "kb" -> 1000L;
                        case "kib" -> 1024L;
                        case "mb" -> 1000L * 1000;
                        case "mib" -> 1024L * 1024;
                        case "gb" -> 1000L * 1000 * 1000;
                        case "gib" -> 1024L * 1024 * 1024;
                        default -> 1L;
                    };
            long value;
            try {
                value = Math.multiplyExact(Long.parseLong(m.group(1)), multiplier);
            } catch (ArithmeticException | NumberFormatException e) {
                throw new IllegalArgumentException("byte size too large: " + text);
            }
            if (value < min || value > max) {
                throw new IllegalArgumentException(
                        "expected a byte size between " + format(min) + " and " + format(max) + ", found " + text);
            }
            return value;
        }

        @Override
        public String format(Long value) {
            long v = value;
            if (v != 0 && v % (1024L * 1024 * 1024) == 0) {
                return v / (1024L * 1024 * 1024) + "GiB";
            }
            if (v != 0 && v % (1024L * 1024) == 0) {
                return v / (1024L * 1024) + "MiB";
            }
            if (v != 0 && v % 1024 == 0) {
                return v / 1024 + "KiB";
            }
            return Long.toString(v);
        }

        @Override
        public String expected() {
            return "a byte size such as 4194304, 512KiB or 4MiB";
        }
    }

    /** See {@link ConfigType#oneOf(List)}. */
    record EnumType(List<String> allowed) implements ConfigType<String> {
        @Override
        public String parse(String text) {
            for (String candidate : allowed) {
                if (candidate.equalsIgnoreCase(text)) {
                    return candidate;
                }
            }
            throw new IllegalArgumentException("expected " + expected() + ", found '" + text + "'");
        }

        @Override
        public String format(String value) {
            return value;
        }

        @Override
        public String expected() {
            return "one of " + String.join(", ", allowed);
        }
    }

    /** See {@link ConfigType#path()}. */
    record PathType() implements ConfigType<Path> {
        @Override
        public Path parse(String text) {
            if (text.isBlank()) {
                throw new IllegalArgumentException("expected " + expected() + ", found an empty value");
            }
            try {
                return Path.of(text);
            } catch (InvalidPathException e) {
                throw new IllegalArgumentException("not a valid path: " + e.getMessage());
            }
        }

        @Override
        public String format(Path value) {
            return value.toString();
        }

        @Override
        public String expected() {
            return "a file system path";
        }
    }

    /** See {@link ConfigType#stringList()}. */
    record StringListType() implements ConfigType<List<String>> {
        @Override
        public List<String> parse(String text) {
            return Arrays.stream(text.split(","))
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList();
        }

        @Override
        public List<String> fromYaml(YamlNode node) {
            if (node.isList()) {
                return node.asList().stream()
                        .map(item -> {
                            if (!item.isScalar()) {
                                throw new IllegalArgumentException("list items must be text; item on line "
                                        + item.line() + " is " + item.kind().description());
                            }
                            return item.asString();
                        })
                        .toList();
            }
            if (node.isNull()) {
                return List.of();
            }
            return ConfigType.super.fromYaml(node);
        }

        @Override
        public String format(List<String> value) {
            return String.join(",", value);
        }

        @Override
        public String expected() {
            return "a list of strings";
        }
    }

    /** See {@link ConfigType#optional(ConfigType, String)}. */
    record OptionalType<T>(ConfigType<T> inner, String absentWord) implements ConfigType<Optional<T>> {
        @Override
        public Optional<T> parse(String text) {
            if (text.isEmpty() || text.equalsIgnoreCase(absentWord)) {
                return Optional.empty();
            }
            return Optional.of(inner.parse(text));
        }

        @Override
        public Optional<T> fromYaml(YamlNode node) {
            if (node.isNull()) {
                return Optional.empty();
            }
            if (node.isScalar()) {
                return parse(node.asString().trim());
            }
            return Optional.of(inner.fromYaml(node));
        }

        @Override
        public String format(Optional<T> value) {
            return value.map(inner::format).orElse(absentWord);
        }

        @Override
        public String expected() {
            return inner.expected() + (absentWord.isEmpty() ? "" : " or " + absentWord);
        }
    }
}
