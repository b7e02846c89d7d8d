package io.meshguard.cli.api;

import java.util.Optional;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Which API and where (a picocli mixin of {@code api create} and {@code api delete}): its name, group and upstream. */
final class ApiPlacement {
    @Parameters(index = "0", paramLabel = "NAME", description = "The API's name (lowercase letters, digits, '-').")
    String name;

    @Option(
            names = "--group",
            required = true,
            paramLabel = "GROUP",
            description = "Gateway group whose draft holds the API's routes.")
    String group;

    @Option(names = "--upstream", paramLabel = "NAME", description = "The upstream's name (default: the API's name).")
    Optional<String> upstream = Optional.empty();

    /** The upstream's name. */
    String upstreamName() {
        return upstream.orElse(name);
    }
}
