package io.meshguard.cli.dlp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class DlpScanCommandTest {
    private static final Path POLICY = io.meshguard.testing.FixturePolicies.file("dlp.yaml");

    private record Run(int exit, String stdout, String stderr) {}

    private static Run run(String stdin, String... args) {
        DlpScanCommand cmd = new DlpScanCommand();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        cmd.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        cmd.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        cmd.in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
        int exit = new CommandLine(cmd).execute(args);
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void rewritesContentToStdout_findingsAsJsonLinesToStderr_exit0() {
        Run r = run("주민등록번호 960121-1021413, card 5105 1051 0510 5100\n", "--policy", POLICY.toString(), "-");
        assertThat(r.exit()).isZero();
        assertThat(r.stdout()).isEqualTo("주민등록번호 ******-*******, card **** **** **** 5100\n");
        assertThat(r.stderr().lines())
                .hasSize(2)
                .allMatch(l -> l.startsWith("{\"detector\":"))
                .anyMatch(l -> l.contains("\"detector\":\"kr_rrn\"") && l.contains("\"length\":14"))
                .noneMatch(l -> l.contains("960121"));
    }

    @Test
    void outputEndsAsTheInputEnds_noNewlineAddedOrLost_whateverTheTypeAndChunking() {
        for (String type : new String[] {"text/plain", "application/json"}) {
            for (String ending : new String[] {"", "\n", "\n\n", "\r\n"}) {
                String input = "{\"note\":\"card 5105 1051 0510 5100\"}" + ending;
                for (String chunk : new String[] {null, "1", "7"}) {
                    Run r = chunk == null
                            ? run(input, "--policy", POLICY.toString(), "--content-type", type, "-")
                            : run(
                                    input,
                                    "--policy",
                                    POLICY.toString(),
                                    "--content-type",
                                    type,
                                    "--chunk-size",
                                    chunk,
                                    "-");
                    assertThat(r.exit()).isZero();
                    assertThat(r.stdout())
                            .as("%s, chunk %s, ending %s", type, chunk, ending.replace("\n", "\\n"))
                            .doesNotContain("5105 1051")
                            .endsWith("5100\"}" + ending);
                }
            }
        }
    }

    @Test
    void sameOutputWhateverTheChunkSize() {
        String sse = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"card 5105 10\"}}]}\n\n"
                + "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"51 0510 5100\"}}]}\n\ndata: [DONE]\n\n";
        String whole = run(sse, "--policy", POLICY.toString(), "--content-type", "text/event-stream", "-")
                .stdout();
        assertThat(whole).doesNotContain("5105");
        for (String n : new String[] {"1", "5", "64"}) {
            assertThat(run(
                                    sse,
                                    "--policy",
                                    POLICY.toString(),
                                    "--content-type",
                                    "text/event-stream",
                                    "--chunk-size",
                                    n,
                                    "-")
                            .stdout())
                    .isEqualTo(whole);
        }
    }

    @Test
    void blockedContent_exits2_andWritesNothing() {
        Run r = run(
                "my rrn is 960121-1021413",
                "--policy",
                POLICY.toString(),
                "--direction",
                "request",
                "--route",
                "/v1/chat/completions",
                "-");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.stdout()).isEmpty();
        assertThat(r.stderr()).contains("{\"blocked\":true,\"reason\":\"finding\",\"detector\":\"kr_rrn\"}");
    }

    @Test
    void invalidPolicy_exits1_withFileAndLine(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("dlp.yaml");
        Files.writeString(bad, "version: 1\nprofiles:\n  - name: x\n    response:\n      detectors: {card: shred}\n");
        Run r = run("x", "--policy", bad.toString(), "-");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.stderr()).contains(bad + ":5: unknown action 'shred'");
    }

    @Test
    void findingLength_countsCharactersNotBytes_withKoreanTextAround() {
        // 대외비 is 3 characters but 9 UTF-8 bytes; the card number is ASCII, 19 characters either way.
        Run r = run("이 문서는 대외비 입니다. 카드 5105 1051 0510 5100 으로 결제\n", "--policy", POLICY.toString(), "-");
        assertThat(r.exit()).isZero();
        assertThat(r.stderr().lines())
                .anyMatch(l -> l.contains("\"detector\":\"confidential_marking\"") && l.contains("\"length\":3,"))
                .anyMatch(l -> l.contains("\"detector\":\"card\"") && l.contains("\"length\":19,"));
    }

    @Test
    void hashKeyFile_fromTheEnvironment_isUsed_andAMissingOneIsAUsageError(@TempDir Path dir) throws Exception {
        Path key = dir.resolve("hash-key");
        Files.writeString(key, "ab".repeat(32));
        String body = "카드 5105 1051 0510 5100";
        // Hash tokens come from the key: the same key file gives the same token twice, another key another token.
        String a = runWithEnv(java.util.Map.of("MESHGUARD_DLP_HASH_KEY_FILE", key.toString()), body);
        String b = runWithEnv(java.util.Map.of("MESHGUARD_DLP_HASH_KEY_FILE", key.toString()), body);
        String c = runWithEnv(java.util.Map.of("MESHGUARD_DLP_HASH_KEY", "cd".repeat(32)), body);
        assertThat(a).isEqualTo(b).isNotEqualTo(c).contains("\"hmac\":");

        DlpScanCommand cmd = new DlpScanCommand();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        cmd.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        cmd.out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        cmd.in = new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8));
        cmd.env = java.util.Map.of(
                "MESHGUARD_DLP_HASH_KEY_FILE", dir.resolve("absent").toString());
        assertThat(new CommandLine(cmd).execute("--policy", POLICY.toString(), "-"))
                .isEqualTo(1);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("dlp.hash_key_file " + dir.resolve("absent") + " does not exist");
    }

    /** Findings (stderr) of one scan of a text response body with the given environment. */
    private static String runWithEnv(java.util.Map<String, String> env, String body) {
        DlpScanCommand cmd = new DlpScanCommand();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        cmd.out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        cmd.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        cmd.in = new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8));
        cmd.env = env;
        assertThat(new CommandLine(cmd).execute("--policy", POLICY.toString(), "-"))
                .isZero();
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void zstdInput_isDecodedLikeTheServerDoes_sameOutputWhateverTheChunkSize() throws Exception {
        String text = "카드 5105 1051 0510 5100 결제\n";
        java.io.ByteArrayOutputStream z = new java.io.ByteArrayOutputStream();
        try (var zstd = new io.airlift.compress.zstd.ZstdOutputStream(z)) {
            zstd.write(text.getBytes(StandardCharsets.UTF_8));
        }
        for (String[] extra : new String[][] {{}, {"--chunk-size", "3"}}) {
            DlpScanCommand cmd = new DlpScanCommand();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            cmd.out = new PrintStream(out, true, StandardCharsets.UTF_8);
            cmd.err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
            cmd.in = new ByteArrayInputStream(z.toByteArray());
            java.util.List<String> args = new java.util.ArrayList<>(
                    java.util.List.of("--policy", POLICY.toString(), "--content-encoding", "zstd"));
            args.addAll(java.util.List.of(extra));
            args.add("-");
            assertThat(new CommandLine(cmd).execute(args.toArray(String[]::new)))
                    .isZero();
            assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("카드 **** **** **** 5100 결제\n");
        }
    }

    @Test
    void badUsage_exits1() {
        assertThat(run("x", "--policy", POLICY.toString(), "--direction", "sideways", "-")
                        .exit())
                .isEqualTo(1);
        assertThat(run("x", "--policy", POLICY.toString(), "--chunk-size", "0", "-")
                        .exit())
                .isEqualTo(1);
    }
}
