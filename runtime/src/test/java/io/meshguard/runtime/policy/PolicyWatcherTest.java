package io.meshguard.runtime.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real files in a temp directory, the JDK's real watch service. */
class PolicyWatcherTest {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @TempDir
    Path dir;

    private ProcessMetrics metrics;
    private PolicyWatcher<List<String>> watcher;

    @BeforeEach
    void setUp() {
        metrics = ProcessMetrics.create();
    }

    @AfterEach
    void tearDown() {
        if (watcher != null) {
            watcher.close();
        }
        metrics.close();
    }

    private PolicyWatcher<List<String>> watch(Path location) throws IOException {
        // A long re-check interval: these tests must pass on watch events alone.
        watcher = new PolicyWatcher<>(
                "authz", location, new RuleListParser(), metrics.forServer("extauthz"), Duration.ofMinutes(10));
        watcher.start();
        return watcher;
    }

    private List<String> rules() {
        return watcher.current().orElseThrow().value();
    }

    private String scrape() {
        return metrics.scrape();
    }

    private static double reloads(String scrape, String result) {
        String prefix =
                "meshguard_policy_reload_total{policy=\"authz\",result=\"" + result + "\",server=\"extauthz\"} ";
        return scrape.lines()
                .filter(l -> l.startsWith(prefix))
                .mapToDouble(l -> Double.parseDouble(l.substring(prefix.length())))
                .findFirst()
                .orElse(-1);
    }

    private ReadinessCheck.Result readiness() {
        return watcher.readinessChecks().get(0).check();
    }

    @Test
    void start_loadsEveryYamlFileOfDirectoryInNameOrder() throws IOException {
        Files.writeString(dir.resolve("b.yml"), "rules: [b1]\n");
        Files.writeString(dir.resolve("a.yaml"), "rules: [a1, a2]\n");
        Files.writeString(dir.resolve(".hidden.yaml"), "rules: [hidden]\n");
        Files.writeString(dir.resolve("notes.txt"), "not a policy");
        Files.createDirectory(dir.resolve("sub.yaml"));

        watch(dir);

        assertThat(rules()).containsExactly("a1", "a2", "b1");
        LoadedPolicy<List<String>> loaded = watcher.current().orElseThrow();
        assertThat(loaded.sources()).extracting(PolicySource::fileName).containsExactly("a.yaml", "b.yml");
        assertThat(loaded.version()).hasSize(12).matches("[0-9a-f]+");
        assertThat(loaded.version()).isEqualTo(LoadedPolicy.versionOf(loaded.sources()));
        assertThat(readiness().ready()).isTrue();
        assertThat(readiness().detail()).isEqualTo("version " + loaded.version() + " from 2 file(s)");
        assertThat(watcher.name()).isEqualTo("policy:authz");
        String scrape = scrape();
        assertThat(reloads(scrape, "success")).isEqualTo(1.0);
        assertThat(reloads(scrape, "invalid")).isEqualTo(0.0);
        assertThat(scrape)
                .contains("meshguard_policy_info{policy=\"authz\",server=\"extauthz\",version=\"" + loaded.version()
                        + "\"} 1");
        assertThat(scrape)
                .containsPattern(
                        "meshguard_policy_last_reload_success_timestamp_seconds\\{policy=\"authz\",server=\"extauthz\"} 1\\.\\d+E9");
    }

    @Test
    void edit_swapsPolicyNotifiesListenerAndReplacesInfoSeries() throws IOException {
        Path file = dir.resolve("authz.yaml");
        Files.writeString(file, "rules: [old]\n");
        List<LoadedPolicy<List<String>>> notified = new CopyOnWriteArrayList<>();
        watch(dir).addListener(notified::add);
        String oldVersion = watcher.current().orElseThrow().version();

        Files.writeString(file, "rules: [new]\n");

        await().atMost(WAIT).until(() -> rules().equals(List.of("new")));
        String newVersion = watcher.current().orElseThrow().version();
        assertThat(newVersion).isNotEqualTo(oldVersion);
        // Listeners and metrics are updated right after the swap, on the watcher's thread: wait for them too.
        await().atMost(WAIT).untilAsserted(() -> {
            assertThat(notified).extracting(LoadedPolicy::version).containsExactly(newVersion);
            String scrape = scrape();
            assertThat(scrape)
                    .contains("version=\"" + newVersion + "\"")
                    .doesNotContain("version=\"" + oldVersion + "\"");
            assertThat(reloads(scrape, "success")).isEqualTo(2.0);
        });
    }

    @Test
    void invalidEdit_keepsRunningPolicyAndCountsInvalidOnce() throws IOException {
        Path file = dir.resolve("authz.yaml");
        Files.writeString(file, "rules: [good]\n");
        watch(dir);
        String goodVersion = watcher.current().orElseThrow().version();

        Files.writeString(file, "rules: [still-good]\nrulez: [typo]\n");

        await().atMost(WAIT).until(() -> reloads(scrape(), "invalid") == 1.0);
        assertThat(rules()).containsExactly("good");
        assertThat(watcher.current().orElseThrow().version()).isEqualTo(goodVersion);
        assertThat(watcher.lastProblem())
                .contains("authz.yaml:2: unknown key 'rulez' (did you mean 'rules'?); expected one of rules");
        assertThat(readiness().ready()).isTrue();
        assertThat(readiness().detail()).contains("newer files rejected: authz.yaml:2: unknown key 'rulez'");

        assertThat(watcher.reloadNow()).isEqualTo(ReloadOutcome.INVALID);
        assertThat(reloads(scrape(), "invalid")).isEqualTo(1.0);

        Files.writeString(file, "rules: [fixed]\n");
        await().atMost(WAIT).until(() -> rules().equals(List.of("fixed")));
        assertThat(watcher.lastProblem()).isEmpty();
    }

    @Test
    void invalidAtStart_isNotReadyWithFileAndLine() throws IOException {
        Files.writeString(dir.resolve("authz.yaml"), "# comment\n\nrulez: []\n");

        watch(dir);

        assertThat(watcher.current()).isEmpty();
        assertThat(readiness())
                .isEqualTo(ReadinessCheck.Result.notReady(
                        "authz.yaml:3: unknown key 'rulez' (did you mean 'rules'?); expected one of rules"));
    }

    @Test
    void errorsInSeveralFiles_areAllReported() throws IOException {
        Files.writeString(dir.resolve("a.yaml"), "rules: [[nested]]\n");
        Files.writeString(dir.resolve("b.yaml"), "rules: [x]\nrules: [y]\n");

        watch(dir);

        assertThat(watcher.lastProblem())
                .contains(
                        "a.yaml:1: expected a string, found a list; b.yaml:2: duplicate key 'rules' (first defined on line 1)");
    }

    @Test
    void configMapDataSymlinkSwap_isPickedUp() throws IOException {
        Path first = Files.createDirectory(dir.resolve("..2026_11_21_10_00_00.123"));
        Files.writeString(first.resolve("authz.yaml"), "rules: [v1]\n");
        Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
        Files.createSymbolicLink(dir.resolve("authz.yaml"), Path.of("..data/authz.yaml"));
        watch(dir);
        assertThat(rules()).containsExactly("v1");

        // What the kubelet does: write a new timestamped directory, point a temp link at it, rename it over ..data.
        Path second = Files.createDirectory(dir.resolve("..2026_11_21_10_05_00.456"));
        Files.writeString(second.resolve("authz.yaml"), "rules: [v2]\n");
        Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
        Files.move(
                dir.resolve("..data_tmp"),
                dir.resolve("..data"),
                StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        Files.delete(first.resolve("authz.yaml"));
        Files.delete(first);

        await().atMost(WAIT).until(() -> rules().equals(List.of("v2")));
        assertThat(watcher.current().orElseThrow().sources())
                .extracting(PolicySource::fileName)
                .containsExactly("authz.yaml");
    }

    @Test
    void configMapSwap_watchingTheFileItself_isPickedUp() throws IOException {
        Path first = Files.createDirectory(dir.resolve("..2026_11_21_10_00_00.123"));
        Files.writeString(first.resolve("authz.yaml"), "rules: [v1]\n");
        Files.createSymbolicLink(dir.resolve("..data"), first.getFileName());
        Path file = Files.createSymbolicLink(dir.resolve("authz.yaml"), Path.of("..data/authz.yaml"));
        watch(file);

        Path second = Files.createDirectory(dir.resolve("..2026_11_21_10_05_00.456"));
        Files.writeString(second.resolve("authz.yaml"), "rules: [v2]\n");
        Files.createSymbolicLink(dir.resolve("..data_tmp"), second.getFileName());
        Files.move(
                dir.resolve("..data_tmp"),
                dir.resolve("..data"),
                StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);

        await().atMost(WAIT).until(() -> rules().equals(List.of("v2")));
    }

    @Test
    void deletedFileInDirectory_reloadsWithoutIt() throws IOException {
        Files.writeString(dir.resolve("a.yaml"), "rules: [a]\n");
        Files.writeString(dir.resolve("b.yaml"), "rules: [b]\n");
        watch(dir);
        assertThat(rules()).containsExactly("a", "b");

        Files.delete(dir.resolve("b.yaml"));

        await().atMost(WAIT).until(() -> rules().equals(List.of("a")));
    }

    @Test
    void deletedLastFile_keepsRunningPolicyAndCountsUnreadable() throws IOException {
        Path file = dir.resolve("authz.yaml");
        Files.writeString(file, "rules: [kept]\n");
        watch(file);

        Files.delete(file);

        await().atMost(WAIT).until(() -> reloads(scrape(), "unreadable") == 1.0);
        assertThat(rules()).containsExactly("kept");
        assertThat(watcher.lastProblem()).hasValueSatisfying(p -> assertThat(p).startsWith("not found: "));
        assertThat(readiness().ready()).isTrue();

        Files.writeString(file, "rules: [kept]\n");
        await().atMost(WAIT).until(() -> watcher.lastProblem().isEmpty());
        assertThat(reloads(scrape(), "success")).isEqualTo(1.0);
    }

    @Test
    void emptyDirectory_isUnreadableAndNotReady() throws IOException {
        watch(dir);

        assertThat(watcher.current()).isEmpty();
        assertThat(readiness().ready()).isFalse();
        assertThat(readiness().detail()).startsWith("no *.yaml or *.yml policy files in ");
    }

    @Test
    void missingLocationAtStart_loadsOnceCreated() throws IOException {
        Path missing = dir.resolve("later");
        watch(missing);
        assertThat(readiness().ready()).isFalse();

        Files.createDirectory(missing);
        Files.writeString(missing.resolve("authz.yaml"), "rules: [late]\n");

        // The watch on the parent may already have loaded it; either way the explicit reload must end loaded.
        assertThat(watcher.reloadNow()).isIn(ReloadOutcome.LOADED, ReloadOutcome.UNCHANGED);
        assertThat(rules()).containsExactly("late");
        assertThat(readiness().ready()).isTrue();
    }

    @Test
    void missingDirectoryAppearingLater_isFoundByWatchingItsParent() throws IOException {
        Path later = dir.resolve("later");
        watch(later);

        Files.createDirectory(later);
        await().atMost(WAIT).until(() -> watcher.lastProblem().orElse("").startsWith("no *.yaml"));
        Files.writeString(later.resolve("authz.yaml"), "rules: [appeared]\n");

        await().atMost(WAIT).until(() -> watcher.current().isPresent());
        assertThat(rules()).containsExactly("appeared");
    }

    @Test
    void unwatchableLocation_isStillLoadedByPeriodicRecheck() throws IOException {
        // Neither the location nor its parent exists, so there is nothing to watch: only the re-check sees it.
        Path deep = dir.resolve("not-yet").resolve("policies");
        watcher = new PolicyWatcher<>(
                "authz", deep, new RuleListParser(), metrics.forServer("extauthz"), Duration.ofMillis(200));
        watcher.start();

        Files.createDirectories(deep);
        Files.writeString(deep.resolve("authz.yaml"), "rules: [rechecked]\n");

        await().atMost(WAIT).until(() -> watcher.current().isPresent());
        assertThat(rules()).containsExactly("rechecked");
    }

    @Test
    void reloadNow_sameFiles_isUnchangedAndNotCounted() throws IOException {
        Files.writeString(dir.resolve("authz.yaml"), "rules: [x]\n");
        watch(dir);

        assertThat(watcher.reloadNow()).isEqualTo(ReloadOutcome.UNCHANGED);
        assertThat(reloads(scrape(), "success")).isEqualTo(1.0);
    }

    @Test
    void parserCrash_isTreatedAsInvalidAndKeepsPolicy() throws IOException {
        Path file = dir.resolve("authz.yaml");
        Files.writeString(file, "rules: [ok]\n");
        watcher = new PolicyWatcher<>(
                "authz",
                dir,
                sources -> {
                    if (sources.get(0).text().contains("boom")) {
                        throw new IllegalStateException("parser bug");
                    }
                    return new RuleListParser().parse(sources);
                },
                metrics.forServer("extauthz"),
                Duration.ofMinutes(10));
        watcher.start();

        Files.writeString(file, "rules: [boom]\n");

        assertThat(watcher.reloadNow()).isIn(ReloadOutcome.INVALID);
        assertThat(rules()).containsExactly("ok");
        assertThat(watcher.lastProblem()).hasValueSatisfying(p -> assertThat(p).contains("parser failed"));
    }

    @Test
    void failingListener_doesNotStopOthersOrTheSwap() throws IOException {
        Path file = dir.resolve("authz.yaml");
        Files.writeString(file, "rules: [one]\n");
        List<String> seen = new CopyOnWriteArrayList<>();
        watcher = new PolicyWatcher<>(
                "authz", dir, new RuleListParser(), metrics.forServer("extauthz"), Duration.ofMinutes(10));
        watcher.addListener(p -> {
            throw new IllegalStateException("listener bug");
        });
        watcher.addListener(p -> seen.add(p.value().get(0)));
        watcher.start();

        Files.writeString(file, "rules: [two]\n");
        watcher.reloadNow();

        assertThat(seen).containsExactly("one", "two");
        assertThat(rules()).containsExactly("two");
    }

    @Test
    void invalidUtf8_isUnreadable() throws IOException {
        Files.write(dir.resolve("authz.yaml"), new byte[] {'r', ':', ' ', (byte) 0xff});

        watch(dir);

        assertThat(readiness().detail()).isEqualTo("authz.yaml is not valid UTF-8");
    }
}
