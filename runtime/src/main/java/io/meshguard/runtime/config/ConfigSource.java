package io.meshguard.runtime.config;

/** Where a setting's value came from: its default, a line of the config file, or an environment variable. */
public sealed interface ConfigSource {

    /** The key's default applied. */
    record Default() implements ConfigSource {
        @Override
        public String toString() {
            return "default";
        }
    }

    /** Set in the config file at {@code file:line}. */
    record File(String file, int line) implements ConfigSource {
        @Override
        public String toString() {
            return file + ":" + line;
        }
    }

    /** Set by an environment variable. */
    record Env(String variable) implements ConfigSource {
        @Override
        public String toString() {
            return "env " + variable;
        }
    }
}
