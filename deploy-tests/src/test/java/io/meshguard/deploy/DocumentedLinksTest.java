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
 * Markdown file names one of its headings (GitHub's anchor spelling); so does every file of the repository the docs
 * name in code. A link to a file that moved is the first thing a new user meets when following the docs. The
 * documents: README, CHANGELOG, SECURITY, every Markdown file under docs/, manifests/, policies/, deploy/,
 * xds-controller/, deploy-tests/ and bench/, and every module's README.
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
                brokenReason(doc, target)
                        .ifPresent(why -> broken.add(RepoPaths.root().relativize(doc) + ": (" + target + ") " + why));
            }
        }
        assertThat(checked).as("relative links found").isGreaterThan(50);
        assertThat(broken).as("relative links that lead nowhere").isEmpty();
    }

    /**
     * A file of this repository the docs name in a code span ({@code policies/access.yaml},
     * {@code cli/.../idp/LocalRealm.java}, "..." or "…" standing for any directories) exists: a guide that sends the
     * reader to a file that moved is as broken as a dead link. Only paths whose first segment is a top-level entry of
     * the repository count; build outputs ({@code target/}) and Envoy's own source tree ({@code docs/root/...},
     * which the Envoy notes cite) are not this repository's files.
     */
    @Test
    void everyRepositoryFileNamedInCode_exists() throws IOException {
        List<String> missing = new ArrayList<>();
        int named = 0;
        for (Path doc : documents()) {
            Matcher code = CODE.matcher(FENCE.matcher(Files.readString(doc)).replaceAll(""));
            while (code.find()) {
                String span = code.group(1).replaceAll("[:#].*$", "").replaceAll("[.,;]+$", "");
                if (namesARepositoryFile(span)) {
                    named++;
                    if (!existsInRepo(doc, span)) {
                        missing.add(RepoPaths.root().relativize(doc) + ": `" + span + "`");
                    }
                }
            }
        }
        assertThat(named).as("repository files named in the docs").isGreaterThan(100);
        assertThat(missing)
                .as("files the docs name that the repository does not have")
                .isEmpty();
    }

    @Test
    void theCheck_namedFiles_globsElidedDirectories_andSkipsBuildOutputAndEnvoysTree() throws IOException {
        Path doc = RepoPaths.root().resolve("docs/install.md");
        assertThat(namesARepositoryFile("policies/access.yaml")).isTrue();
        assertThat(namesARepositoryFile("cli/target/meshguard.jar")).isFalse();
        assertThat(isLocalState(".meshguard/up.json"))
                .as("what `up` leaves under its git-ignored data directory, there or not")
                .isTrue();
        assertThat(isLocalState("policies/access.yaml")).isFalse();
        assertThat(namesARepositoryFile("docs/root/configuration/best_practices/edge.rst"))
                .isFalse();
        assertThat(namesARepositoryFile("deploy/meshguard-xds"))
                .as("a kubectl resource, no file name")
                .isFalse();
        assertThat(existsInRepo(doc, "cli/.../idp/LocalRealm.java")).isTrue();
        assertThat(existsInRepo(doc, "policies/access.yaml")).isTrue();
        assertThat(existsInRepo(doc, "policies/acces.yaml")).isFalse();
        assertThat(existsInRepo(doc, "cli/.../idp/RemoteRealm.java")).isFalse();
    }

    private static final Pattern FILE_PATH =
            Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.…-]+)*/[A-Za-z0-9_-]+\\.[a-z]{1,5}");

    static boolean namesARepositoryFile(String span) {
        return FILE_PATH.matcher(span).matches()
                && Files.exists(RepoPaths.root().resolve(span.substring(0, span.indexOf('/'))))
                && !span.matches("(.*/)?target/.*")
                && !span.startsWith("docs/root/")
                && !isLocalState(span);
    }

    static boolean isLocalState(String span) {
        return IGNORED_DIRECTORIES.stream().anyMatch(span::startsWith);
    }

    /**
     * The top-level directories the root .gitignore names ({@code .meshguard/}, what {@code up} leaves): a file there
     * is local state, present or not depending on what ran on this machine, never a repository file.
     */
    private static final List<String> IGNORED_DIRECTORIES = ignoredDirectories();

    private static List<String> ignoredDirectories() {
        try {
            return Files.readAllLines(RepoPaths.root().resolve(".gitignore")).stream()
                    .map(String::strip)
                    .filter(line -> line.matches("/?[A-Za-z0-9_.-]+/"))
                    .map(line -> line.startsWith("/") ? line.substring(1) : line)
                    .toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Whether {@code path} exists from the repository's root or the document's directory; "..." is any directories. */
    static boolean existsInRepo(Path doc, String path) throws IOException {
        Path root = RepoPaths.root();
        if (!path.contains("...") && !path.contains("…")) {
            return Files.exists(root.resolve(path))
                    || Files.exists(doc.getParent().resolve(path));
        }
        java.nio.file.PathMatcher matcher = root.getFileSystem()
                .getPathMatcher("glob:" + root + "/" + path.replace("...", "**").replace("…", "**"));
        try (Stream<Path> walk = Files.walk(root.resolve(path.substring(0, path.indexOf('/'))))) {
            return walk.anyMatch(matcher::matches);
        }
    }

    /**
     * Every alert's {@code runbook} annotation (repository-relative, in both rule files) leads to a page and a heading
     * of it: the link an on-call person opens from the page.
     */
    @Test
    void everyAlertRunbook_reachesAFileAndHeading() throws IOException {
        Pattern runbook = Pattern.compile("(?m)^\\s*runbook:\\s*'?([^'\\s]+)'?\\s*$");
        Path fromRoot = RepoPaths.root().resolve("README.md");
        List<String> broken = new ArrayList<>();
        int seen = 0;
        for (String rules : List.of("prometheus-rules.yaml", "alert-rules.yaml")) {
            Matcher m = runbook.matcher(Files.readString(RepoPaths.manifests().resolve("monitoring/" + rules)));
            while (m.find()) {
                seen++;
                String target = m.group(1);
                brokenReason(fromRoot, target).ifPresent(why -> broken.add(rules + ": " + target + " " + why));
            }
        }
        assertThat(seen).as("runbook annotations found").isGreaterThan(40);
        assertThat(broken).as("runbooks that lead nowhere").isEmpty();
    }

    @Test
    void theCheck_catchesAMissingFileAndAMissingHeading() throws IOException {
        Path doc = RepoPaths.root().resolve("docs/install.md");
        assertThat(brokenReason(doc, "no-such-file.md")).isPresent();
        assertThat(brokenReason(doc, "operator-guide.md#no-such-heading")).isPresent();
        assertThat(brokenReason(doc, "operate/respond-to-an-alert.md#respond-to-an-alert-no-more"))
                .isPresent();
        assertThat(brokenReason(doc, "operate/respond-to-an-alert.md#alerts")).isEmpty();
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
        if (!fragment.isEmpty()
                && resolved.toString().endsWith(".md")
                && !fragment.matches("L\\d+(-L\\d+)?")
                && !anchors(resolved).contains(fragment)) {
            return java.util.Optional.of(
                    "no heading #" + fragment + " in " + RepoPaths.root().relativize(resolved));
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
            String slug = m.group(1)
                    .toLowerCase(Locale.ROOT)
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
        for (String tree :
                List.of("docs", "manifests", "policies", "deploy", "xds-controller", "deploy-tests", "bench")) {
            if (!Files.isDirectory(root.resolve(tree))) {
                continue;
            }
            try (Stream<Path> walk = Files.walk(root.resolve(tree))) {
                walk.filter(p -> p.toString().endsWith(".md") && !p.toString().contains("/target/"))
                        .sorted()
                        .forEach(files::add);
            }
        }
        for (String top : List.of("README.md", "CHANGELOG.md", "SECURITY.md")) {
            files.add(root.resolve(top));
        }
        // every module's README (audit/, cli/, e2e/, …): what a reader opens from the module's directory
        try (Stream<Path> walk = Files.walk(root)) {
            walk.filter(p -> p.getFileName().toString().equals("README.md"))
                    .filter(p -> !root.relativize(p).toString().matches("(.*/)?(target|node_modules|\\.[^/]+)/.*"))
                    .filter(p -> !files.contains(p))
                    .sorted()
                    .forEach(files::add);
        }
        return files;
    }
}
