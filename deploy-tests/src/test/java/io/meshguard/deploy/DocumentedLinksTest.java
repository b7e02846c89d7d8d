package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every relative link in the project's Markdown leads somewhere: the file exists, and a {@code #fragment} into a
 * Markdown file names one of its headings (GitHub's anchor spelling). A link to a file that moved is the first
 * thing a new user meets when following the docs.
 */
class DocumentedLinksTest {
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("(?m)^#{1,6}\\s+(.+?)\\s*#*\\s*$");
    private static final Pattern FENCE = Pattern.compile("(?s)```.*?```");
    private static final Pattern CODE = Pattern.compile("`([^`\\n]+)`");
    private static final Pattern NAMED_FILE = Pattern.compile("[A-Za-z0-9_./-]+\\.md");

    @Test
    void everyRelativeLink_reachesAFileAndHeading() throws IOException {
        List<String> broken = new ArrayList<>();
        int checked = 0;
        for (Path doc : documents()) {
            String text = FENCE.matcher(Files.readString(doc)).replaceAll("");
            Matcher code = CODE.matcher(text);
            while (code.find()) {
                // a document named in code spans (`docs/xds-security.md`) is a link a reader follows by hand
                if (NAMED_FILE.matcher(code.group(1)).matches() && !named(doc, code.group(1))) {
                    broken.add(RepoPaths.root().relativize(doc) + ": `" + code.group(1) + "` no such file");
                }
            }
            Matcher m = LINK.matcher(CODE.matcher(text).replaceAll(""));
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z][a-z0-9+.-]*:.*") || target.startsWith("<")) {
                    continue; // absolute URLs and mail addresses are not ours to check offline
                }
                checked++;
                brokenReason(doc, target).ifPresent(why -> broken.add(RepoPaths.root().relativize(doc) + ": ("
                        + target + ") " + why));
            }
        }
        assertThat(checked).as("relative links found").isGreaterThan(50);
        assertThat(broken).as("relative links that lead nowhere").isEmpty();
    }

    @Test
    void theCheck_catchesAMissingFileAndAMissingHeading() throws IOException {
        Path doc = RepoPaths.root().resolve("docs/install.md");
        assertThat(brokenReason(doc, "no-such-file.md")).isPresent();
        assertThat(brokenReason(doc, "operator-guide.md#no-such-heading")).isPresent();
        assertThat(brokenReason(doc, "../README.md")).isEmpty();
    }

    static java.util.Optional<String> brokenReason(Path doc, String target) throws IOException {
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        String fragment = hash < 0 ? "" : target.substring(hash + 1);
        Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
        if (!Files.exists(resolved)) {
            return java.util.Optional.of("no such file");
        }
        if (!fragment.isEmpty() && resolved.toString().endsWith(".md") && !fragment.matches("L\\d+(-L\\d+)?")
                && !anchors(resolved).contains(fragment)) {
            return java.util.Optional.of("no heading #" + fragment + " in " + RepoPaths.root().relativize(resolved));
        }
        return java.util.Optional.empty();
    }

    private static boolean named(Path doc, String file) {
        Path root = RepoPaths.root();
        return Stream.of(doc.getParent(), root, root.resolve("docs"))
                .anyMatch(dir -> Files.exists(dir.resolve(file).normalize()));
    }

    /** GitHub's anchors: lower case, markup and punctuation dropped, spaces to hyphens, repeats numbered. */
    private static Set<String> anchors(Path markdown) throws IOException {
        Set<String> anchors = new HashSet<>();
        Matcher m = HEADING.matcher(FENCE.matcher(Files.readString(markdown)).replaceAll(""));
        while (m.find()) {
            String slug = m.group(1).toLowerCase(Locale.ROOT)
                    .replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1")
                    .replaceAll("[^\\p{L}\\p{N} _-]", "")
                    .replace(' ', '-');
            String unique = slug;
            for (int n = 1; !anchors.add(unique); n++) {
                unique = slug + "-" + n;
            }
        }
        return anchors;
    }

    private static List<Path> documents() throws IOException {
        Path root = RepoPaths.root();
        List<Path> files = new ArrayList<>();
        for (String tree : List.of("docs", "manifests", "policies", "deploy", "xds-controller", "deploy-tests",
                "bench")) {
            if (!Files.isDirectory(root.resolve(tree))) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(root.resolve(tree))) {
                walk.filter(p -> p.toString().endsWith(".md") && !p.toString().contains("/target/")).sorted()
                        .forEach(files::add);
            }
        }
        for (String top : List.of("README.md", "CHANGELOG.md", "SECURITY.md")) {
            files.add(root.resolve(top));
        }
        return files;
    }
}
