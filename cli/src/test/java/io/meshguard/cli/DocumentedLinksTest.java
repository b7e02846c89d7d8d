package io.meshguard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every relative link of the documentation leads somewhere: the file or directory exists, and an anchor names a
 * heading of that document as GitHub renders it (or an explicit {@code <a id>}). The documents are the ones a new
 * user reads from the README on: README.md, CHANGELOG.md, SECURITY.md, docs/**, and every README.md of the repository
 * (manifests, modules, deploy-tests, policies). Links in code blocks and code spans are text, not links; links to other sites are not
 * followed (the build sends nothing off the machine).
 */
class DocumentedLinksTest {
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    // [text](target) and ![alt](target); the target ends at the first space (a title may follow) or ')'
    private static final Pattern INLINE = Pattern.compile("!?\\[(?:[^\\]\\[]|\\[[^\\]]*\\])*\\]\\(\\s*<?([^)\\s>]+)>?(?:\\s+\"[^\"]*\")?\\s*\\)");
    private static final Pattern REFERENCE = Pattern.compile("^\\s{0,3}\\[[^\\]]+\\]:\\s+<?(\\S+?)>?(\\s.*)?$");
    private static final Pattern HEADING = Pattern.compile("^\\s{0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern HTML_ANCHOR = Pattern.compile("<a\\s+(?:id|name)=\"([^\"]+)\"");

    @Test
    void everyRelativeLinkInTheDocs_resolvesToAFileAndHeading() throws IOException {
        List<String> broken = new ArrayList<>();
        int links = 0;
        for (Path doc : documents()) {
            for (Link link : linksIn(doc)) {
                links++;
                problem(doc, link.target()).ifPresent(why -> broken.add(REPO.relativize(doc) + ":" + link.line()
                        + ": (" + link.target() + ") " + why));
            }
        }
        assertThat(links).as("relative links found in the docs").isGreaterThan(50);
        assertThat(broken).as("links in the docs that lead nowhere").isEmpty();
    }

    /**
     * A file the docs name in a code span ({@code policies/access.yaml}, {@code cli/.../idp/LocalRealm.java}, with
     * "..." or "…" for any directories) exists: a guide that sends the reader to a file that was moved is as broken
     * as a dead link. Build outputs ({@code target/}) and Envoy's own source tree ({@code docs/root/...}, which the
     * Envoy notes cite) are not this repository's files.
     */
    @Test
    void everyRepositoryFileTheDocsNameInCode_exists() throws IOException {
        List<String> missing = new ArrayList<>();
        int named = 0;
        for (Path doc : documents()) {
            for (Link path : filesNamedIn(doc)) {
                named++;
                if (!existsInRepo(doc, path.target())) {
                    missing.add(REPO.relativize(doc) + ":" + path.line() + ": `" + path.target() + "`");
                }
            }
        }
        assertThat(named).as("repository files named in the docs").isGreaterThan(100);
        assertThat(missing).as("files the docs name that the repository does not have").isEmpty();
    }

    @Test
    void theCheck_findsAMissingFileAndAMissingHeading_andSkipsCode(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("other.md"), "# Other page\n\n## 3. Upgrade `order` (safe)\n");
        Path doc = Files.writeString(dir.resolve("doc.md"), """
                # A page
                [ok](other.md#3-upgrade-order-safe) [self](#a-page) [dir](.) [web](https://example.com/x.md)
                [missing](gone.md) [no heading](other.md#4-rollback)
                ```sh
                [in code](nowhere.md)
                ```
                and `[in a span](nowhere.md)`
                [ref]: other.md#other-page
                """);
        List<String> found = new ArrayList<>();
        for (Link link : linksIn(doc)) {
            problem(doc, link.target()).ifPresent(why -> found.add(link.target() + " " + why));
        }
        assertThat(found).hasSize(2);
        assertThat(found.get(0)).startsWith("gone.md").contains("no such file");
        assertThat(found.get(1)).startsWith("other.md#4-rollback").contains("no heading");
        assertThat(existsInRepo(doc, "cli/.../idp/LocalRealm.java")).isTrue();
        assertThat(existsInRepo(doc, "policies/access.yaml")).isTrue();
        assertThat(existsInRepo(doc, "policies/acces.yaml")).isFalse();
        assertThat(existsInRepo(doc, "cli/.../idp/RemoteRealm.java")).isFalse();
    }

    record Link(int line, String target) {}

    private static final Pattern CODE_SPAN = Pattern.compile("`([^`\\s]+)`");
    private static final Pattern FILE_PATH = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.…-]+)*/[A-Za-z0-9_-]+\\.[a-z]{1,5}");

    /** Paths to files of this repository the document names in code spans (first segment a top-level entry). */
    static List<Link> filesNamedIn(Path doc) throws IOException {
        Set<String> top = new java.util.HashSet<>();
        try (Stream<Path> entries = Files.list(REPO)) {
            entries.forEach(p -> top.add(p.getFileName().toString()));
        }
        List<Link> named = new ArrayList<>();
        List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
        boolean fenced = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.strip().startsWith("```") || line.strip().startsWith("~~~")) {
                fenced = !fenced;
                continue;
            }
            if (fenced) {
                continue;
            }
            Matcher m = CODE_SPAN.matcher(line);
            while (m.find()) {
                String span = m.group(1).replaceAll("[:#].*$", "").replaceAll("[.,;]+$", "");
                if (FILE_PATH.matcher(span).matches() && top.contains(span.substring(0, span.indexOf('/')))
                        && !span.matches("(.*/)?target/.*") && !span.startsWith("docs/root/")) {
                    named.add(new Link(i + 1, span));
                }
            }
        }
        return named;
    }

    /** Whether {@code path} exists from the repository's root or the document's directory; "..." is any directories. */
    static boolean existsInRepo(Path doc, String path) throws IOException {
        if (!path.contains("...") && !path.contains("…")) {
            return Files.exists(REPO.resolve(path)) || Files.exists(doc.getParent().resolve(path));
        }
        String glob = "glob:" + REPO + "/" + path.replace("...", "**").replace("…", "**");
        java.nio.file.PathMatcher matcher = REPO.getFileSystem().getPathMatcher(glob);
        Path start = REPO.resolve(path.substring(0, path.indexOf('/')));
        try (Stream<Path> walk = Files.walk(start)) {
            return walk.anyMatch(matcher::matches);
        }
    }

    /** The links of one document outside code blocks and code spans, with their line numbers. */
    static List<Link> linksIn(Path doc) throws IOException {
        List<Link> links = new ArrayList<>();
        List<String> lines = Files.readAllLines(doc, StandardCharsets.UTF_8);
        boolean fenced = false;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.strip().startsWith("```") || line.strip().startsWith("~~~")) {
                fenced = !fenced;
                continue;
            }
            if (fenced) {
                continue;
            }
            String text = line.replaceAll("`[^`]*`", "``");
            Matcher m = INLINE.matcher(text);
            while (m.find()) {
                links.add(new Link(i + 1, m.group(1)));
            }
            Matcher ref = REFERENCE.matcher(text);
            if (ref.matches()) {
                links.add(new Link(i + 1, ref.group(1)));
            }
        }
        links.removeIf(l -> l.target().matches("(?i)[a-z][a-z0-9+.-]*:.*"));
        return links;
    }

    /** Why {@code target}, linked from {@code doc}, leads nowhere; empty when it resolves. */
    static java.util.Optional<String> problem(Path doc, String target) {
        int hash = target.indexOf('#');
        String path = hash < 0 ? target : target.substring(0, hash);
        String anchor = hash < 0 ? "" : target.substring(hash + 1);
        Path file = path.isEmpty() ? doc
                : doc.getParent().resolve(java.net.URLDecoder.decode(path, StandardCharsets.UTF_8)).normalize();
        if (!Files.exists(file)) {
            return java.util.Optional.of("no such file: " + file);
        }
        if (anchor.isEmpty() || !file.toString().endsWith(".md")) {
            return java.util.Optional.empty();
        }
        return anchorsOf(file).contains(anchor) ? java.util.Optional.empty()
                : java.util.Optional.of("no heading #" + anchor + " in " + file.getFileName());
    }

    private static final Map<Path, Set<String>> ANCHORS = new HashMap<>();

    /** The anchors GitHub gives a document's headings (duplicates get -1, -2, …), and its explicit anchors. */
    static Set<String> anchorsOf(Path file) {
        return ANCHORS.computeIfAbsent(file, f -> {
            try {
                Set<String> anchors = new LinkedHashSet<>();
                Map<String, Integer> seen = new HashMap<>();
                boolean fenced = false;
                for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                    if (line.strip().startsWith("```") || line.strip().startsWith("~~~")) {
                        fenced = !fenced;
                        continue;
                    }
                    if (fenced) {
                        continue;
                    }
                    Matcher explicit = HTML_ANCHOR.matcher(line);
                    while (explicit.find()) {
                        anchors.add(explicit.group(1));
                    }
                    Matcher h = HEADING.matcher(line);
                    if (h.matches()) {
                        String slug = slug(h.group(2));
                        int n = seen.merge(slug, 1, Integer::sum) - 1;
                        anchors.add(n == 0 ? slug : slug + "-" + n);
                    }
                }
                return anchors;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** GitHub's heading anchor: link text kept, lower case, punctuation dropped, each space a hyphen. */
    static String slug(String heading) {
        String text = heading.replaceAll("!?\\[([^\\]]*)\\]\\([^)]*\\)", "$1").replaceAll("<[^>]+>", "");
        return text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N} _-]", "").replace(' ', '-');
    }

    private static List<Path> documents() throws IOException {
        Set<Path> files = new LinkedHashSet<>();
        files.add(REPO.resolve("README.md"));
        files.add(REPO.resolve("CHANGELOG.md"));
        files.add(REPO.resolve("SECURITY.md"));
        try (Stream<Path> walk = Files.walk(REPO.resolve("docs"))) {
            walk.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        try (Stream<Path> walk = Files.walk(REPO)) {
            walk.filter(p -> p.getFileName().toString().equals("README.md"))
                    .filter(p -> REPO.relativize(p).toString().split("/").length > 1)
                    .filter(p -> !REPO.relativize(p).toString().matches("(.*/)?(target|node_modules|\\.[^/]+)/.*"))
                    .sorted().forEach(files::add);
        }
        return List.copyOf(files);
    }
}
