package io.meshguard.runtime.metrics;

import io.meshguard.runtime.BuildInfo;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmInfoMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one Prometheus registry of a JVM process, with JVM (memory, GC, threads, class loading) and process
 * (CPU, uptime, file descriptors) metrics, plus a per-server view of it.
 *
 * <p>Why one registry with a {@code server} label rather than one registry per server: in
 * {@code meshguard up} extauthz, DLP and the xDS controller share one JVM. Separate registries would each
 * report the same JVM heap and GC under three names, and a scrape of one port would miss the others'
 * meters. So JVM and process meters are registered once, without a {@code server} label (they describe the
 * process), and each server registers its own meters through {@link #forServer(String)}, which adds
 * {@code server=<name>} to every meter. Every status port serves the whole registry; in Kubernetes each
 * server is its own process, so that is the same thing.
 *
 * <p>It also carries {@code meshguard_build_info{version,commit,java} 1}, the Prometheus info-metric idiom, so a
 * dashboard or an alert can tell which build each pod runs (one build per process, hence no {@code server} label).
 */
public final class ProcessMetrics implements AutoCloseable {
    /** Label added to every server-specific meter. */
    public static final String SERVER_TAG = "server";

    private static final Logger LOG = LoggerFactory.getLogger(ProcessMetrics.class);

    /** The build-info meter; Prometheus shows it as {@code meshguard_build_info}. */
    public static final String BUILD_INFO = "meshguard.build.info";

    private static final Pattern SERVER_NAME = Pattern.compile("[a-z][a-z0-9_-]*");

    /**
     * Label names in snake_case, as Prometheus' own lint wants (promtool check metrics): libraries such as Micrometer's
     * gRPC interceptor tag {@code methodType} and {@code statusCode} (review IC-12).
     */
    static final MeterFilter SNAKE_CASE_TAGS = new MeterFilter() {
        @Override
        public Meter.Id map(Meter.Id id) {
            List<Tag> tags = id.getTags();
            if (tags.stream().noneMatch(t -> hasUpperCase(t.getKey()))) {
                return id;
            }
            return id.replaceTags(tags.stream()
                    .map(t -> Tag.of(snakeCase(t.getKey()), t.getValue()))
                    .toList());
        }
    };

    private static boolean hasUpperCase(String s) {
        return s.chars().anyMatch(Character::isUpperCase);
    }

    static String snakeCase(String key) {
        StringBuilder out = new StringBuilder(key.length() + 4);
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isUpperCase(c)) {
                // a word starts at an upper-case letter after a lower-case one or a digit, or at the last letter
                // of an acronym followed by lower case (HTTPStatus -> http_status)
                char before = i > 0 ? key.charAt(i - 1) : '_';
                boolean acronymEnds = Character.isUpperCase(before)
                        && i + 1 < key.length()
                        && Character.isLowerCase(key.charAt(i + 1));
                if (Character.isLowerCase(before) || Character.isDigit(before) || acronymEnds) {
                    out.append('_');
                }
                out.append(Character.toLowerCase(c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gcMetrics;
    private final Map<String, CompositeMeterRegistry> servers = new ConcurrentHashMap<>();

    private ProcessMetrics(BuildInfo build) {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().meterFilter(SNAKE_CASE_TAGS);
        new JvmInfoMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics = new JvmGcMetrics();
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        Gauge.builder(BUILD_INFO, () -> 1)
                .description("The meshguard build this process runs; always 1, the labels carry the information")
                .tags("version", build.version(), "commit", build.commit(), "java", build.java())
                .register(registry);
    }

    /**
     * A new registry with the JVM and process binders and the build info bound. Create one per process: every server
     * command does so first, which is why the build is logged here, once, at start.
     */
    public static ProcessMetrics create() {
        BuildInfo build = BuildInfo.current();
        LOG.info("meshguard {}", build.describe());
        return new ProcessMetrics(build);
    }

    /** The registry {@code /metrics} scrapes. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * The registry one server registers its meters in: every meter gets {@code server=<serverName>}. The same
     * name returns the same view.
     *
     * @param serverName lowercase, e.g. {@code extauthz}, {@code dlp}, {@code xds}
     */
    public MeterRegistry forServer(String serverName) {
        if (!SERVER_NAME.matcher(serverName).matches()) {
            throw new IllegalArgumentException("server name must be lowercase letters, digits, - or _: " + serverName);
        }
        return servers.computeIfAbsent(serverName, name -> {
            CompositeMeterRegistry view = new CompositeMeterRegistry();
            view.config().meterFilter(SNAKE_CASE_TAGS).commonTags(SERVER_TAG, name);
            view.add(registry);
            return view;
        });
    }

    /** The Prometheus text exposition of every meter. */
    public String scrape() {
        return registry.scrape();
    }

    /** Unhooks the GC listener and closes the registry. */
    @Override
    public void close() {
        gcMetrics.close();
        servers.values().forEach(CompositeMeterRegistry::close);
        registry.close();
    }
}
