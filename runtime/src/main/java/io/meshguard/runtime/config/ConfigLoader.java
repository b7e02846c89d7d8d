package io.meshguard.runtime.config;

import io.meshguard.runtime.yaml.InvalidYamlException;
import io.meshguard.runtime.yaml.NearestName;
import io.meshguard.runtime.yaml.YamlDocument;
import io.meshguard.runtime.yaml.YamlEntry;
import io.meshguard.runtime.yaml.YamlNode;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads a server's settings: defaults, then the YAML file, then {@code MESHGUARD_*} environment variables
 * (the environment wins, as in containers the environment is what operators change).
 *
 * <p>Everything is validated before the server starts, and every problem is reported at once with the key
 * and the file line or variable: an unknown key (with a "did you mean"), a wrong type, a value out of range,
 * an unreadable file. Unknown {@code MESHGUARD_*} variables are ignored, because in {@code meshguard up}
 * several servers with different schemas share one environment; they are logged at debug level.
 *
 * <p>In YAML the dots of a key are nesting levels ({@code grpc:} then {@code port:}); writing the dotted
 * name as one key ({@code grpc.port: 9001}) works too.
 */
public final class ConfigLoader {
    private static final Logger log = LoggerFactory.getLogger(ConfigLoader.class);

    private ConfigLoader() {}

    /** Loads with the {@code MESHGUARD_} environment prefix. */
    public static Config load(ConfigSchema schema, Optional<Path> file, Map<String, String> env)
            throws ConfigException {
        return load(schema, file, env, ConfigKey.ENV_PREFIX);
    }

    /**
     * Loads with another environment prefix (e.g. {@code MESHGUARD_EXTAUTHZ_} when several servers in one
     * process need different values for the same key).
     */
    public static Config load(ConfigSchema schema, Optional<Path> file, Map<String, String> env, String envPrefix)
            throws ConfigException {
        List<ConfigProblem> problems = new ArrayList<>();
        Map<String, Config.Value> values = new LinkedHashMap<>();
        for (ConfigKey<?> key : schema.keys()) {
            values.put(key.name(), new Config.Value(key, key.defaultValue(), new ConfigSource.Default()));
        }
        file.ifPresent(path -> readFile(schema, path, values, problems));
        readEnv(schema, env, envPrefix, values, problems);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new Config(schema, values);
    }

    private static void readFile(
            ConfigSchema schema, Path path, Map<String, Config.Value> values, List<ConfigProblem> problems) {
        String name = path.toString();
        String text;
        try {
            byte[] bytes = Files.readAllBytes(path);
            text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (NoSuchFileException e) {
            problems.add(new ConfigProblem(name, "config file not found"));
            return;
        } catch (CharacterCodingException e) {
            problems.add(new ConfigProblem(name, "config file is not valid UTF-8"));
            return;
        } catch (IOException e) {
            problems.add(new ConfigProblem(name, "cannot read config file: " + e));
            return;
        }
        YamlNode root;
        try {
            root = YamlDocument.parse(name, text);
        } catch (InvalidYamlException e) {
            problems.add(new ConfigProblem(e.location(), e.reason()));
            return;
        }
        if (root.isNull()) {
            return;
        }
        if (!root.isMap()) {
            problems.add(new ConfigProblem(
                    root.location(),
                    "expected a map of settings, found " + root.kind().description()));
            return;
        }
        walk(schema, root, "", new HashMap<>(), values, problems);
    }

    private static void walk(
            ConfigSchema schema,
            YamlNode map,
            String prefix,
            Map<String, Integer> seen,
            Map<String, Config.Value> values,
            List<ConfigProblem> problems) {
        for (YamlEntry entry : map.entries()) {
            String fullName = prefix.isEmpty() ? entry.name() : prefix + "." + entry.name();
            YamlNode value = entry.value();
            Optional<ConfigKey<?>> key = schema.find(fullName);
            if (key.isPresent()) {
                Integer firstLine = seen.putIfAbsent(fullName, entry.key().line());
                if (firstLine != null) {
                    problems.add(new ConfigProblem(
                            entry.key().location(), fullName + " is set twice (first on line " + firstLine + ")"));
                    continue;
                }
                parseInto(
                        key.get(), value, entry.key().sourceName(), entry.key().line(), values, problems);
            } else if (schema.isParent(fullName)) {
                if (value.isMap()) {
                    walk(schema, value, fullName, seen, values, problems);
                } else if (!value.isNull()) {
                    problems.add(new ConfigProblem(
                            entry.key().location(),
                            fullName + " is a group of settings, expected a map, found "
                                    + value.kind().description()));
                }
            } else {
                problems.add(new ConfigProblem(
                        entry.key().location(),
                        "unknown key '" + fullName + "'" + NearestName.hint(fullName, schema.names())));
            }
        }
    }

    private static <T> void parseInto(
            ConfigKey<T> key,
            YamlNode node,
            String file,
            int line,
            Map<String, Config.Value> values,
            List<ConfigProblem> problems) {
        try {
            T value = key.type().fromYaml(node);
            values.put(key.name(), new Config.Value(key, value, new ConfigSource.File(file, line)));
        } catch (IllegalArgumentException | InvalidYamlException e) {
            String reason = e instanceof InvalidYamlException y ? y.reason() : e.getMessage();
            problems.add(new ConfigProblem(file + ":" + node.line(), key.name() + ": " + reason));
        }
    }

    private static void readEnv(
            ConfigSchema schema,
            Map<String, String> env,
            String envPrefix,
            Map<String, Config.Value> values,
            List<ConfigProblem> problems) {
        Map<String, ConfigKey<?>> byEnv = new HashMap<>();
        for (ConfigKey<?> key : schema.keys()) {
            byEnv.put(key.envVar(envPrefix), key);
        }
        // Sorted so problems come out in a stable order whatever the map's iteration order.
        for (Map.Entry<String, String> variable : new TreeMap<>(env).entrySet()) {
            if (!variable.getKey().startsWith(envPrefix)) {
                continue;
            }
            ConfigKey<?> key = byEnv.get(variable.getKey());
            if (key == null) {
                log.debug("ignoring environment variable {}: not a setting of this server", variable.getKey());
                continue;
            }
            parseEnv(key, variable.getKey(), variable.getValue(), values, problems);
        }
    }

    private static <T> void parseEnv(
            ConfigKey<T> key,
            String variable,
            String text,
            Map<String, Config.Value> values,
            List<ConfigProblem> problems) {
        try {
            T value = key.type().parse(text.trim());
            values.put(key.name(), new Config.Value(key, value, new ConfigSource.Env(variable)));
        } catch (IllegalArgumentException e) {
            problems.add(new ConfigProblem("env " + variable, key.name() + ": " + e.getMessage()));
        }
    }
}
