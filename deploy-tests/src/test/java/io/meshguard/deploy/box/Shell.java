package io.meshguard.deploy.box;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the node's own tools (iproute2, nftables, util-linux) and fails with their output when they fail. */
final class Shell {
    private Shell() {}

    static String run(String... command) {
        return run(List.of(command), null);
    }

    /** Runs {@code command} with {@code stdin} (may be null) and returns its output; an exit other than 0 throws. */
    static String run(List<String> command, String stdin) {
        try {
            Path out = Files.createTempFile("box-cmd", ".out");
            try {
                ProcessBuilder builder =
                        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
                Process p = builder.start();
                try (var in = p.getOutputStream()) {
                    if (stdin != null) {
                        in.write(stdin.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(String.join(" ", command) + " did not finish in 60 s");
                }
                String output = Files.readString(out, StandardCharsets.UTF_8);
                if (p.exitValue() != 0) {
                    throw new IllegalStateException(String.join(" ", command) + " exited " + p.exitValue() + ": "
                            + output.strip() + (stdin == null ? "" : "\n--- input ---\n" + stdin));
                }
                return output;
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted running " + command.get(0), e);
        }
    }

    /** Runs {@code command} inside network namespace {@code netns}. */
    static String inNetns(String netns, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        full.addAll(List.of(command));
        return run(full, null);
    }

    /** The tools the box needs; a clear message naming the package of each one missing. */
    static List<String> missingTools() {
        List<String> missing = new ArrayList<>();
        String[][] tools = {
            {"ip", "iproute2"},
            {"nft", "nftables"},
            {"unshare", "util-linux"},
            {"mount", "mount"},
            {"sh", "dash"},
            {"openssl", "openssl"},
            {"curl", "curl"}
        };
        for (String[] tool : tools) {
            if (!onPath(tool[0])) {
                missing.add(tool[0] + " (Debian package " + tool[1] + ")");
            }
        }
        return missing;
    }

    static boolean onPath(String program) {
        for (String dir : System.getenv()
                .getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
                .split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", program)) || Files.isExecutable(Path.of("/sbin", program));
    }
}
