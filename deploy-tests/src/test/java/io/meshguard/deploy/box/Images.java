package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The images the manifests name, as processes of this machine. The meshguard image is its entrypoint ({@code java}
 * with the flags of {@code /opt/java/meshguard.jvmargs}, read from {@code deploy/image-rootfs.sh} which writes them)
 * running {@code cli/target/meshguard.jar}, the same classes the image's {@code /app} holds; the container's memory
 * and CPU limits become {@code -XX:MaxRAM} and {@code -XX:ActiveProcessorCount}, which is what the JVM reads from
 * the container's cgroup. Envoy's image is the project's Envoy emulator ({@link GatewayPod}), fed over ADS from the
 * bootstrap the pod mounts. Any other image is not modelled and is reported as such.
 */
final class Images {
    private final Path java;
    private final Path jar;
    private final List<String> jvmArgs;
    private final String testClasspath;

    /** @param testClasspath where the Envoy emulator's classes are ({@link GatewayPod}) */
    Images(Path javaHome, Path repoRoot, String testClasspath) {
        this.testClasspath = testClasspath;
        this.java = javaHome.resolve("bin/java");
        this.jar = repoRoot.resolve("cli/target/meshguard.jar");
        this.jvmArgs = imageJvmArgs(
                repoRoot.resolve("deploy/image-rootfs.sh"), Runtime.version().feature());
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("the meshguard image's classes are missing: " + jar
                    + " (build it: ./mvnw -B -ntp -pl cli -am package -DskipTests)");
        }
    }

    Path jar() {
        return jar;
    }

    Path java() {
        return java;
    }

    /** The JVM flags the image writes to {@code meshguard.jvmargs}, for a runtime of {@code major}. */
    static List<String> imageJvmArgs(Path script, int major) {
        try {
            String text = Files.readString(script);
            int end = text.indexOf("} > \"$out/opt/java/meshguard.jvmargs\"");
            int start = text.lastIndexOf("{\n", end);
            List<String> args = new ArrayList<>();
            Matcher line = Pattern.compile("(?m)^\\s*(?:\\[ \"\\$major\" -ge (\\d+) \\] && )?echo \"([^\"]+)\"")
                    .matcher(text.substring(start, end));
            while (line.find()) {
                if (line.group(1) == null || major >= Integer.parseInt(line.group(1))) {
                    args.add(line.group(2));
                }
            }
            if (args.isEmpty()) {
                throw new IllegalStateException("no JVM flags found in " + script);
            }
            return args;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A pod whose image the box cannot run: reported, not counted as the manifest's failure. */
    static final class NotModelled extends RuntimeException {
        NotModelled(String message) {
            super(message);
        }
    }

    List<String> argv(BoxPod pod, String image, List<String> command, List<String> args, Map<String, String> env) {
        List<String> argv = new ArrayList<>();
        if (image.contains("/meshguard/meshguard") || image.equals("meshguard")) {
            if (!command.isEmpty()) {
                throw new ContainerRuntime.PodConfigError(pod.describe() + ": the meshguard image has no shell and no "
                        + "program but its entrypoint; command " + command + " would not start");
            }
            argv.add(java.toString());
            argv.addAll(jvmArgs);
            argv.addAll(limits(pod));
            argv.addAll(List.of("-jar", jar.toString()));
            argv.addAll(args);
            return argv;
        }
        if (image.startsWith("envoyproxy/envoy:")) {
            if (!command.equals(List.of("envoy"))) {
                throw new ContainerRuntime.PodConfigError(
                        pod.describe() + ": Envoy's image runs envoy, not " + command);
            }
            argv.addAll(List.of(
                    java.toString(),
                    "-Xmx256m",
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    testClasspath,
                    GatewayPod.class.getName()));
            argv.addAll(args);
            return argv;
        }
        throw new NotModelled(pod.describe() + ": image " + image + " is not modelled by the box");
    }

    private static List<String> limits(BoxPod pod) {
        List<String> flags = new ArrayList<>();
        var resources = pod.container().getResources();
        if (resources == null || resources.getLimits() == null) {
            return flags;
        }
        Optional.ofNullable(resources.getLimits().get("memory"))
                .ifPresent(q ->
                        flags.add("-XX:MaxRAM=" + Quantity.getAmountInBytes(q).toBigInteger()));
        Optional.ofNullable(resources.getLimits().get("cpu"))
                .ifPresent(q -> flags.add("-XX:ActiveProcessorCount="
                        + Quantity.getAmountInBytes(q)
                                .setScale(0, RoundingMode.CEILING)
                                .max(BigDecimal.ONE)
                                .intValue()));
        return flags;
    }
}
