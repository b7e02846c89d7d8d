package io.meshguard.deploy.box;

import io.meshguard.deploy.RenderedManifests;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The bank's MCP server and its agent ({@code deploy-tests/src/test/mcp}): two scripts on the official MCP TypeScript
 * SDK (v2, protocol 2026-07-28) run by Debian's Node.js. The SDK comes from npm at the versions
 * {@code package-lock.json} pins, installed once per run into {@code deploy-tests/target/mcp-node} ({@code npm ci}),
 * as the bank's image build would.
 */
final class McpNode {
    static final Path NODE = Path.of("/usr/bin/node");
    private static final List<String> FILES =
            List.of("package.json", "package-lock.json", "bank-mcp-server.mjs", "agent.mjs");
    private static Path installed;

    private McpNode() {}

    /** The scripts with their SDK, installed once; a missing Node.js or npm names Debian's packages. */
    static synchronized Path install() throws IOException, InterruptedException {
        if (installed != null) {
            return installed;
        }
        if (!Files.isExecutable(NODE) || !Files.isExecutable(Path.of("/usr/bin/npm"))) {
            throw new IllegalStateException(
                    "the bank's MCP server needs Node.js 20+ and npm: apt-get install nodejs npm");
        }
        Path root = RenderedManifests.repoRoot();
        Path dir = root.resolve("deploy-tests/target/mcp-node");
        Files.createDirectories(dir);
        boolean lockChanged = !Files.exists(dir.resolve("package-lock.json"))
                || Files.mismatch(
                                root.resolve("deploy-tests/src/test/mcp/package-lock.json"),
                                dir.resolve("package-lock.json"))
                        != -1;
        for (String f : FILES) {
            Files.copy(
                    root.resolve("deploy-tests/src/test/mcp").resolve(f),
                    dir.resolve(f),
                    StandardCopyOption.REPLACE_EXISTING);
        }
        if (lockChanged || !Files.isDirectory(dir.resolve("node_modules/@modelcontextprotocol/server"))) {
            Run npm = run(dir, 300, List.of("/usr/bin/npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"));
            if (npm.exit() != 0) {
                throw new IllegalStateException("npm ci in " + dir + " exited " + npm.exit() + ":\n" + npm.output());
            }
        }
        installed = dir;
        return dir;
    }

    /** The server's argv: it listens on {@code port} on every address of its pod. */
    static List<String> server(Path dir, int port) {
        return List.of(NODE.toString(), dir.resolve("bank-mcp-server.mjs").toString(), Integer.toString(port));
    }

    /**
     * The agent run once on the node: it dials {@code url} (its host is what the gateway routes on) at
     * {@code connect}, with {@code token} as its bearer token; its exit code and output.
     */
    static Run agent(Path dir, String url, InetSocketAddress connect, String token)
            throws IOException, InterruptedException {
        return run(
                dir,
                90,
                List.of(
                        NODE.toString(),
                        dir.resolve("agent.mjs").toString(),
                        url,
                        connect.getHostString() + ":" + connect.getPort(),
                        token));
    }

    /** A finished process: its exit code (-1 when it was killed at its deadline) and its output. */
    record Run(int exit, String output) {}

    private static Run run(Path dir, int seconds, List<String> argv) throws IOException, InterruptedException {
        Path out = Files.createTempFile("mcp-node", ".out");
        try {
            Process p = new ProcessBuilder(new ArrayList<>(argv))
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            boolean done = p.waitFor(seconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly().waitFor();
            }
            return new Run(done ? p.exitValue() : -1, Files.readString(out, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
        }
    }
}
