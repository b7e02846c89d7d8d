package io.meshguard.runtime.yaml;

/**
 * One key/value pair of a YAML map, in document order. The key is a node too, so an error about the key
 * (unknown, misspelled) can point at the key's own line.
 */
public record YamlEntry(YamlNode key, YamlNode value) {
    /** The key as text. */
    public String name() {
        return key.asString();
    }
}
