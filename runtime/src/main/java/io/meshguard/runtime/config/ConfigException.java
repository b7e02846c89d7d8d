package io.meshguard.runtime.config;

import java.util.List;
import java.util.stream.Collectors;

/** The configuration cannot be used; lists every problem found, not just the first. */
public final class ConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient List<ConfigProblem> problems;

    public ConfigException(List<ConfigProblem> problems) {
        super(format(problems));
        this.problems = List.copyOf(problems);
    }

    /** All problems, in file order then environment order. */
    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String format(List<ConfigProblem> problems) {
        String header = problems.size() == 1
                ? "invalid configuration (1 problem):"
                : "invalid configuration (" + problems.size() + " problems):";
        return problems.stream().map(p -> "  - " + p).collect(Collectors.joining("\n", header + "\n", ""));
    }
}
