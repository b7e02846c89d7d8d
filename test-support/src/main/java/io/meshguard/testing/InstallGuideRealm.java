package io.meshguard.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Keycloak realm docs/install.md tells an operator to set up ("Sign-in, console and catalogue", step 1): its
 * {@code kcadm.sh} block, read from the guide and run with bash as an operator pastes it (the list's indentation
 * removed, as the rendered page shows it), with Keycloak's own {@code bin/kcadm.sh}. A step the guide leaves out
 * is missing here too, so a test against this realm tests the install the guide describes, not a test realm.
 *
 * @param keycloakUrl Keycloak's base URL as this JVM reaches it
 * @param realm the realm name ({@code REALM})
 * @param consolePublicUrl the console's origin as people's browsers reach it ({@code console.public_url})
 * @param consoleSecret the console client's secret (Secret {@code meshguard-admin-oidc})
 * @param provisionerSecret the provisioning client's secret (Secret {@code meshguard-admin-oidc})
 * @param automationSecret the automation client's secret (the bank's CI secret store)
 */
public record InstallGuideRealm(
        String keycloakUrl,
        String realm,
        String consolePublicUrl,
        String consoleSecret,
        String provisionerSecret,
        String automationSecret) {
    /** A realm whose automation client gets a random secret nobody uses. */
    public InstallGuideRealm(
            String keycloakUrl, String realm, String consolePublicUrl, String consoleSecret, String provisionerSecret) {
        this(keycloakUrl, realm, consolePublicUrl, consoleSecret, provisionerSecret, randomSecret());
    }

    private static String randomSecret() {
        byte[] b = new byte[32];
        new java.security.SecureRandom().nextBytes(b);
        return java.util.Base64.getEncoder().encodeToString(b);
    }

    /** Where the guide's realm step starts. */
    static final String STEP = "1. **The Keycloak realm**";
    /**
     * The JVM options of each {@code kcadm.sh} call (its {@code KC_OPTS}; the block's commands stay as the guide
     * writes them). Every call is a JVM of its own, a dozen per realm, each living about a second: C1 only and the
     * serial collector took one call from 1.6-1.8 s to 0.9-1.0 s of CPU.
     */
    private static final String KCADM_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

    /** The guide's block: the first {@code sh} fence after the realm step, without the list's indentation. */
    public static String block() {
        Path guide = guide();
        try {
            List<String> lines = Files.readAllLines(guide, StandardCharsets.UTF_8);
            int step = indexOf(lines, 0, l -> l.startsWith(STEP));
            int fence = indexOf(lines, step, l -> l.strip().equals("```sh"));
            String indent = lines.get(fence).substring(0, lines.get(fence).indexOf('`'));
            int end = indexOf(lines, fence + 1, l -> l.strip().equals("```"));
            StringBuilder block = new StringBuilder();
            for (String line : lines.subList(fence + 1, end)) {
                block.append(line.startsWith(indent) ? line.substring(indent.length()) : line.stripLeading())
                        .append('\n');
            }
            return block.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalStateException(guide + " has no sh block under \"" + STEP + "\"", e);
        }
    }

    /**
     * Runs the guide's block against Keycloak as its bootstrap administrator; {@code keycloakHome} is the distribution
     * whose {@code bin/kcadm.sh} it calls, {@code workDir} holds kcadm's configuration (its {@code HOME} and Java's
     * {@code user.home}).
     */
    public void setUp(Path keycloakHome, String adminUser, String adminPassword, Path workDir) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KEYCLOAK_URL", keycloakUrl);
        env.put("KEYCLOAK_ADMIN", adminUser);
        env.put("KEYCLOAK_ADMIN_PASSWORD", adminPassword);
        env.put("REALM", realm);
        env.put("CONSOLE_PUBLIC_URL", consolePublicUrl);
        env.put("CONSOLE_CLIENT_SECRET", consoleSecret);
        env.put("PROVISIONER_CLIENT_SECRET", provisionerSecret);
        env.put("AUTOMATION_CLIENT_SECRET", automationSecret);
        run(keycloakHome, workDir, env, block());
    }

    /**
     * A person of the bank's directory in the realm: a user with a password and full profile (Keycloak asks for a
     * missing one at the first sign-in), member of {@code groups}; what the identity team's federation provides.
     * Runs after {@link #setUp} in the same {@code workDir} (kcadm's signed-in configuration).
     */
    public void addPerson(Path keycloakHome, Path workDir, String username, String password, List<String> groups) {
        List<String> paths = groups.stream().map(g -> "\"/" + g + "\"").toList();
        run(
                keycloakHome,
                workDir,
                Map.of("REALM", realm),
                String.join(
                                " ",
                                List.of(
                                        "kcadm.sh",
                                        "create",
                                        "users",
                                        "-r",
                                        "\"$REALM\"",
                                        "-s",
                                        "username=" + username,
                                        "-s",
                                        "enabled=true",
                                        "-s",
                                        "email=" + username + "@bank.example",
                                        "-s",
                                        "emailVerified=true",
                                        "-s",
                                        "firstName=" + username,
                                        "-s",
                                        "lastName=Person",
                                        "-s",
                                        "'credentials=[{\"type\":\"password\",\"value\":\"" + password
                                                + "\",\"temporary\":false}]'",
                                        "-s",
                                        "'groups=[" + String.join(",", paths) + "]'"))
                        + "\n");
    }

    /**
     * A further {@code kcadm.sh} script as the same administrator, after {@link #setUp} in the same {@code workDir}
     * (the bank's own realms and clients the guide does not make); {@code env} as the script's environment.
     */
    public void kcadm(Path keycloakHome, Path workDir, Map<String, String> env, String script) {
        run(keycloakHome, workDir, env, script);
    }

    private static void run(Path keycloakHome, Path workDir, Map<String, String> env, String script) {
        try {
            Files.createDirectories(workDir);
            Path log = Files.createTempFile(workDir, "kcadm-", ".log");
            ProcessBuilder pb = new ProcessBuilder("bash", "-euo", "pipefail", "-c", script)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            pb.environment().putAll(env);
            pb.environment().put("HOME", workDir.toAbsolutePath().toString());
            // kcadm keeps its signed-in config under Java's user.home (the passwd entry, not HOME): without this,
            // runs on one machine share /root/.keycloak/kcadm.config and one run's block talks to another's Keycloak
            pb.environment().put("KC_OPTS", "-Duser.home=" + workDir.toAbsolutePath());
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            // kcadm keeps its signed-in configuration under Java's user.home (~/.keycloak/kcadm.config), which the
            // JVM takes from the account, not from HOME: without this every realm set up on the machine at once (two
            // modules' tests, the box) shared root's one file and a call could go to another run's Keycloak
            // (kcadm.sh splits KC_OPTS at spaces: a directory with one keeps the shared file)
            String home = workDir.toAbsolutePath().toString();
            pb.environment().put("KC_OPTS", KCADM_JVM_OPTIONS + (home.matches("\\S+") ? " -Duser.home=" + home : ""));
            pb.environment()
                    .put(
                            "PATH",
                            keycloakHome.resolve("bin").toAbsolutePath() + ":"
                                    + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
            Process p = pb.start();
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(
                        "docs/install.md's realm block ran past 5 minutes: " + Files.readString(log));
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException(
                        "docs/install.md's realm block failed (exit " + p.exitValue() + "): " + Files.readString(log));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while setting up the realm", e);
        }
    }

    /** docs/install.md of this checkout: the nearest ancestor of the working directory that holds it. */
    static Path guide() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("docs/install.md"))) {
                return p.resolve("docs/install.md");
            }
        }
        throw new IllegalStateException("no docs/install.md above " + dir);
    }

    private static int indexOf(List<String> lines, int from, java.util.function.Predicate<String> test) {
        for (int i = from; i < lines.size(); i++) {
            if (test.test(lines.get(i))) {
                return i;
            }
        }
        throw new IndexOutOfBoundsException();
    }
}
