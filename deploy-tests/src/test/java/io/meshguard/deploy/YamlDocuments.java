package io.meshguard.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Reads YAML files (one or many documents each) into JSON trees; empty documents are skipped. */
final class YamlDocuments {
    static final ObjectMapper YAML = new YAMLMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();

    private YamlDocuments() {}

    static List<SourcedDocument> read(Path file) {
        try {
            return parse(RepoPaths.root().relativize(file.toAbsolutePath()).toString(), Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    static List<SourcedDocument> parse(String source, String yaml) {
        List<SourcedDocument> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            int index = 0;
            while (it.hasNextValue()) {
                JsonNode node = it.nextValue();
                if (node != null && !node.isNull() && !node.isMissingNode() && !node.isEmpty()) {
                    docs.add(new SourcedDocument(source, index, node));
                }
                index++;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("invalid YAML in " + source, e);
        }
        return docs;
    }

    /** Every {@code .yaml}/{@code .yml} file below {@code dir}, sorted, for parameterized tests. */
    static List<Path> filesUnder(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** A compose service's {@code environment:} map, sorted by name. */
    static Map<String, String> composeEnvironment(JsonNode service) {
        Map<String, String> env = new TreeMap<>();
        service.path("environment")
                .properties()
                .forEach(e -> env.put(e.getKey(), e.getValue().asText()));
        return env;
    }
}
