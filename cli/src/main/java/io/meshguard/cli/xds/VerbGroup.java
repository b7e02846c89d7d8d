package io.meshguard.cli.xds;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * A command that only groups verbs (its subcommands): called without one, it is a usage error naming them, in the
 * order they are declared.
 */
abstract class VerbGroup implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        List<String> verbs = new ArrayList<>(spec.subcommands().keySet());
        String last = verbs.removeLast();
        String named = verbs.isEmpty() ? last : String.join(", ", verbs) + " or " + last;
        throw new ParameterException(spec.commandLine(), "a verb is required: " + named);
    }
}
