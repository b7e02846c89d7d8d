package io.meshguard.xds.validate;

import java.util.List;

/** All problems found in a configuration; it may be published when there are no errors. */
public record ValidationResult(List<Problem> problems) {

    public ValidationResult {
        problems = List.copyOf(problems);
    }

    public List<Problem> errors() {
        return problems.stream()
                .filter(p -> p.severity() == Problem.Severity.ERROR)
                .toList();
    }

    public List<Problem> warnings() {
        return problems.stream()
                .filter(p -> p.severity() == Problem.Severity.WARNING)
                .toList();
    }

    public List<Problem> infos() {
        return problems.stream()
                .filter(p -> p.severity() == Problem.Severity.INFO)
                .toList();
    }

    public boolean valid() {
        return errors().isEmpty();
    }
}
