package io.meshguard.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * Which meshguard this is: the Maven version and git commit the build stamped into {@code io/meshguard/build.properties},
 * and the Java runtime it runs on. One source for {@code meshguard -V}, the start log line and
 * {@code meshguard_build_info}: the shaded jar drops the manifest's Implementation-Version, a resource survives.
 *
 * @param version the project version, e.g. {@code 0.1.0}; {@code unknown} when the build did not stamp it
 * @param commit the abbreviated git commit, with {@code -dirty} when the tree had uncommitted changes; {@code unknown}
 *     when the build had no git (a source tarball)
 * @param java the running JVM's version ({@code java.runtime.version})
 */
public record BuildInfo(String version, String commit, String java) {
    /** What a value reads as when the build could not say. */
    public static final String UNKNOWN = "unknown";

    static final String RESOURCE = "/io/meshguard/build.properties";

    /** The build this class was loaded from. */
    public static BuildInfo current() {
        return fromResource(
                BuildInfo.class.getResourceAsStream(RESOURCE),
                System.getProperty("java.runtime.version", System.getProperty("java.version", UNKNOWN)));
    }

    /** Reads a build.properties stream (absent: everything but Java unknown) and closes it. */
    static BuildInfo fromResource(InputStream in, String java) {
        Properties properties = new Properties();
        if (in != null) {
            try (in) {
                properties.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + RESOURCE, e);
            }
        }
        return new BuildInfo(stamped(properties, "version"), stamped(properties, "commit"), java);
    }

    // An unfiltered placeholder (${...}) or an empty value means the build did not stamp it.
    private static String stamped(Properties properties, String key) {
        String value = properties.getProperty(key, "").trim();
        return value.isEmpty() || value.contains("${") ? UNKNOWN : value;
    }

    /** {@code 0.1.0 (commit 1a2b3c4d5e6f, Java 21.0.5+11)}. */
    public String describe() {
        return version + " (commit " + commit + ", Java " + java + ")";
    }
}
