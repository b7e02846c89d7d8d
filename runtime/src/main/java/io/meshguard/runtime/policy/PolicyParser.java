package io.meshguard.runtime.policy;

import java.util.List;

/**
 * Turns policy files into the object a server enforces, validating everything first (an invalid file must
 * never replace a running policy). Implementations usually read each source with
 * {@code YamlDocument.parse(source.fileName(), source.text())} and collect every error.
 *
 * @param <T> the compiled policy
 */
@FunctionalInterface
public interface PolicyParser<T> {

    /**
     * @param sources the files, sorted by name; never empty
     * @throws PolicyInvalidException listing each problem with its file and line
     */
    T parse(List<PolicySource> sources) throws PolicyInvalidException;
}
