package io.meshguard.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code meshguard …} command line the documentation shows is one the CLI knows: each is parsed by the real
 * command tree with {@code --help} added (so required options and running servers are not needed), and an unknown
 * command, an unknown option or a surplus argument fails the build naming the file and line.
 */
class DocumentedCommandsTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    /**
     * One command tree for every line: building one costs about a tenth of a second of CPU (picocli reflects over
     * every command class), a parse a few milliseconds, and the docs show hundreds of lines (a tree per line took
     * 82 s of this module's run on a loaded machine). picocli resets the options and builds a new ParseResult on each
     * parse; theCheck_… below parses bad lines before a good one on this same tree.
     */
    private static final CommandLine CLI = DevMain.commandLine();

    @Test
    void everyCommandLineInTheDocs_isKnownToTheCli() throws IOException {
        List<DocumentedCommand> commands = DocumentedCommand.findIn(REPO, documents());
        assertThat(commands).as("command lines found in the docs").hasSizeGreaterThan(50);
        List<String> wrong = new ArrayList<>();
        for (DocumentedCommand c : commands) {
            unknownPart(c.args()).ifPresent(why -> wrong.add(c.where() + ": `" + c.text() + "`: " + why));
        }
        assertThat(wrong).as("documented command lines the CLI does not know").isEmpty();
    }

    @Test
    void theCheck_catchesAnUnknownSubcommandOptionAndSurplusArgument() {
        assertThat(unknownPart(List.of("xds", "nonsense"))).isPresent();
        assertThat(unknownPart(List.of("apikey", "list", "--no-such-option"))).isPresent();
        assertThat(unknownPart(List.of("policy", "check", "a.yaml", "b.yaml"))).isPresent();
        assertThat(unknownPart(List.of("apikey", "revoke", "KEY_ID", "--reason", "leaked")))
                .isEmpty();
    }

    /** What the parser refuses in {@code args}, if anything. */
    private static java.util.Optional<String> unknownPart(List<String> args) {
        List<String> withHelp = new ArrayList<>(args);
        withHelp.add("--help");
        try {
            // with a help option picocli collects what it cannot match instead of throwing: look at every level
            for (CommandLine.ParseResult r = CLI.parseArgs(withHelp.toArray(String[]::new));
                    r != null;
                    r = r.subcommand()) {
                if (!r.unmatched().isEmpty()) {
                    return java.util.Optional.of("`" + r.commandSpec().qualifiedName() + "` does not know "
                            + String.join(" ", r.unmatched()));
                }
            }
            return java.util.Optional.empty();
        } catch (CommandLine.UnmatchedArgumentException e) {
            return java.util.Optional.of(e.getMessage());
        } catch (CommandLine.ParameterException e) {
            // placeholders (`--by N`) and missing values are the reader's to fill in, not unknown parts
            return java.util.Optional.empty();
        }
    }

    private static List<Path> documents() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(REPO.resolve("README.md"));
        files.add(REPO.resolve("policies/README.md"));
        for (String tree : List.of("docs", "manifests")) {
            try (Stream<Path> walk = Files.walk(REPO.resolve(tree))) {
                walk.filter(p -> p.toString().endsWith(".md"))
                        .filter(p -> tree.equals("docs")
                                || p.getFileName().toString().equals("README.md"))
                        .sorted()
                        .forEach(files::add);
            }
        }
        return files;
    }

    /** One command line as a document shows it. */
    record DocumentedCommand(String where, String text, List<String> args) {
        static List<DocumentedCommand> findIn(Path repo, List<Path> files) {
            List<DocumentedCommand> out = new ArrayList<>();
            for (Path f : files) {
                List<String> lines;
                try {
                    lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                String name = repo.relativize(f).toString();
                boolean fenced = false;
                for (int i = 0; i < lines.size(); i++) {
                    String line = lines.get(i);
                    if (line.strip().startsWith("```")) {
                        fenced = !fenced;
                        continue;
                    }
                    if (fenced) {
                        StringBuilder joined = new StringBuilder(line);
                        int first = i;
                        while (joined.toString().stripTrailing().endsWith("\\") && i + 1 < lines.size()) {
                            String j = joined.toString().stripTrailing();
                            joined = new StringBuilder(j.substring(0, j.length() - 1))
                                    .append(' ')
                                    .append(lines.get(++i).strip());
                        }
                        commandIn(joined.toString())
                                .ifPresent(c -> out.add(
                                        new DocumentedCommand(name + ":" + (first + 1), c, ShellWords.split(c))));
                    } else {
                        String where = name + ":" + (i + 1);
                        java.util.regex.Matcher m = INLINE.matcher(line);
                        while (m.find()) {
                            commandIn(m.group(1))
                                    .ifPresent(c -> out.add(new DocumentedCommand(where, c, ShellWords.split(c))));
                        }
                    }
                }
            }
            return out;
        }

        private static final java.util.regex.Pattern INLINE = java.util.regex.Pattern.compile("`([^`]+)`");
        private static final java.util.regex.Pattern COMMAND = java.util.regex.Pattern.compile(
                "(?:^|[;&|(]\\s*|\\$\\s+)(?:[A-Z_]+=\\S*\\s+)*(?:\\./|bin/)?meshguard\\s+(.*)");

        /** The part of {@code text} after a {@code meshguard} invocation, cut at the end of that command. */
        static java.util.Optional<String> commandIn(String text) {
            String t = text.strip();
            if (t.startsWith("#")) {
                return java.util.Optional.empty();
            }
            java.util.regex.Matcher m = COMMAND.matcher(t);
            if (!m.find()) {
                return java.util.Optional.empty();
            }
            String rest = m.group(1);
            // the command ends at a pipe, a list, a redirect, a comment or the end of a $( ... )
            rest = rest.split("\\s(?:\\||&&|\\|\\||;|#)\\s|\\s\\d?>|\\)$|;$|\\s&$")[0].strip();
            if (rest.isEmpty() || !Character.isLetter(rest.charAt(0)) && !rest.startsWith("-")) {
                return java.util.Optional.empty();
            }
            return java.util.Optional.of(rest);
        }
    }

    /** Words as a POSIX shell splits them (quotes, backslashes), enough for documented command lines. */
    static final class ShellWords {
        static List<String> split(String s) {
            List<String> words = new ArrayList<>();
            StringBuilder w = new StringBuilder();
            boolean inWord = false;
            char quote = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (quote != 0) {
                    if (c == quote) {
                        quote = 0;
                    } else {
                        w.append(c);
                    }
                } else if (c == '\'' || c == '"') {
                    quote = c;
                    inWord = true;
                } else if (c == '\\' && i + 1 < s.length()) {
                    w.append(s.charAt(++i));
                    inWord = true;
                } else if (Character.isWhitespace(c)) {
                    if (inWord) {
                        words.add(w.toString());
                        w.setLength(0);
                        inWord = false;
                    }
                } else {
                    w.append(c);
                    inWord = true;
                }
            }
            if (inWord) {
                words.add(w.toString());
            }
            // "…" and "..." stand for what the reader adds; bracketed words are optional parts shown as syntax
            // "a|b|c" lists alternatives: the first stands for them all (each is checked where the docs show it alone)
            return words.stream()
                    .filter(x -> !x.equals("…") && !x.equals("...") && !x.equals("[…]"))
                    .map(x -> x.matches("[a-z-]+(\\|[a-z-]+)+") ? x.substring(0, x.indexOf('|')) : x)
                    .map(x -> x.replaceAll("^\\[|\\]$", ""))
                    .filter(x -> !x.isEmpty())
                    .toList();
        }
    }
}
