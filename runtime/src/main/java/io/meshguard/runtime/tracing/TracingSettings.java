package io.meshguard.runtime.tracing;

import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.config.ConfigProblem;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Tracing as the standard OpenTelemetry environment variables describe it
 * (opentelemetry-specification {@code specification/configuration/sdk-environment-variables.md} and
 * {@code specification/protocol/exporter.md}). Every value is checked when the server starts; a value meshguard does
 * not understand fails the start with the variable's name, instead of silently turning tracing off.
 *
 * <p>One deliberate difference from the specification: {@code OTEL_TRACES_EXPORTER} defaults to {@code none}, so
 * tracing is off (and costs nothing) until an operator asks for {@code otlp}.
 *
 * @param exporting whether spans are recorded and exported ({@code OTEL_TRACES_EXPORTER=otlp} and the SDK not disabled)
 * @param endpoint the OTLP/gRPC collector, {@code http://host:port} (plaintext) or {@code https://host:port} (TLS)
 * @param headers extra gRPC metadata on each export (vendor API keys; never logged)
 * @param timeout deadline of one export call
 * @param gzip whether exports are gzip-compressed
 * @param trustedCertificates PEM file of the CAs that sign the collector's certificate (empty = the JDK's)
 * @param clientCertificate PEM client certificate for mTLS to the collector
 * @param clientKey PEM private key of {@code clientCertificate}
 * @param serviceName {@code service.name} (empty = the server's own name)
 * @param resourceAttributes further resource attributes
 * @param sampler root sampler kind
 * @param samplerRatio ratio for the {@code traceidratio} samplers, in [0, 1]
 * @param propagators formats read from Envoy's metadata and the request headers, in order
 * @param batch batch span processor settings
 */
public record TracingSettings(
        boolean exporting,
        URI endpoint,
        Map<String, String> headers,
        Duration timeout,
        boolean gzip,
        Optional<Path> trustedCertificates,
        Optional<Path> clientCertificate,
        Optional<Path> clientKey,
        Optional<String> serviceName,
        Map<String, String> resourceAttributes,
        Sampler sampler,
        double samplerRatio,
        List<Propagator> propagators,
        Batch batch) {

    /** Root samplers ({@code OTEL_TRACES_SAMPLER}). */
    public enum Sampler {
        ALWAYS_ON("always_on"),
        ALWAYS_OFF("always_off"),
        TRACEIDRATIO("traceidratio"),
        PARENTBASED_ALWAYS_ON("parentbased_always_on"),
        PARENTBASED_ALWAYS_OFF("parentbased_always_off"),
        PARENTBASED_TRACEIDRATIO("parentbased_traceidratio");

        final String value;

        Sampler(String value) {
            this.value = value;
        }
    }

    /** Context formats ({@code OTEL_PROPAGATORS}). */
    public enum Propagator {
        TRACECONTEXT("tracecontext"),
        BAGGAGE("baggage"),
        B3("b3"),
        B3MULTI("b3multi");

        final String value;

        Propagator(String value) {
            this.value = value;
        }
    }

    /**
     * {@code OTEL_BSP_*}.
     *
     * @param scheduleDelay longest wait before a batch is sent
     * @param exportTimeout longest one export may take
     * @param maxQueueSize spans held while waiting; beyond it new spans are dropped (never a stall)
     * @param maxExportBatchSize spans per export call
     */
    public record Batch(Duration scheduleDelay, Duration exportTimeout, int maxQueueSize, int maxExportBatchSize) {}

    /** Default OTLP/gRPC endpoint (specification default). */
    public static final URI DEFAULT_ENDPOINT = URI.create("http://localhost:4317");
    /** Default formats: W3C trace context and baggage, plus B3 (Envoy's Zipkin tracer sends {@code x-b3-*}). */
    public static final List<Propagator> DEFAULT_PROPAGATORS =
            List.of(Propagator.TRACECONTEXT, Propagator.BAGGAGE, Propagator.B3MULTI);

    public TracingSettings {
        headers = Map.copyOf(headers);
        resourceAttributes = Map.copyOf(resourceAttributes);
        propagators = List.copyOf(propagators);
    }

    /** Tracing off: what an empty environment gives. */
    public static TracingSettings off() {
        try {
            return fromEnvironment(Map.of());
        } catch (ConfigException e) {
            throw new IllegalStateException("defaults must be valid", e);
        }
    }

    /** Reads and checks every {@code OTEL_*} variable meshguard uses; reports all problems at once. */
    public static TracingSettings fromEnvironment(Map<String, String> env) throws ConfigException {
        Reader r = new Reader(env);
        boolean sdkDisabled = r.bool("OTEL_SDK_DISABLED", false);
        String exporter = r.oneOf(
                "OTEL_TRACES_EXPORTER", "none", List.of("none", "otlp"), "meshguard exports traces over OTLP only");
        String protocol = r.oneOf(
                r.traces("OTEL_EXPORTER_OTLP_%sPROTOCOL"),
                "grpc",
                List.of("grpc"),
                "meshguard's OTLP exporter speaks OTLP/gRPC (port 4317); http/protobuf and http/json are not supported");
        URI endpoint = r.endpoint(r.traces("OTEL_EXPORTER_OTLP_%sENDPOINT"));
        Map<String, String> headers = r.pairs(r.traces("OTEL_EXPORTER_OTLP_%sHEADERS"));
        Duration timeout = r.millis(r.traces("OTEL_EXPORTER_OTLP_%sTIMEOUT"), 10_000, 1);
        boolean gzip = r.oneOf(r.traces("OTEL_EXPORTER_OTLP_%sCOMPRESSION"), "none", List.of("none", "gzip"), "")
                .equals("gzip");
        Optional<Path> ca = r.file(r.traces("OTEL_EXPORTER_OTLP_%sCERTIFICATE"));
        Optional<Path> clientCert = r.file(r.traces("OTEL_EXPORTER_OTLP_%sCLIENT_CERTIFICATE"));
        Optional<Path> clientKey = r.file(r.traces("OTEL_EXPORTER_OTLP_%sCLIENT_KEY"));
        if (clientCert.isPresent() != clientKey.isPresent()) {
            r.problem(
                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                    "a client certificate and its key go together: set both _CLIENT_CERTIFICATE and _CLIENT_KEY, or neither");
        }
        if ((ca.isPresent() || clientCert.isPresent()) && !"https".equals(endpoint.getScheme())) {
            r.problem(
                    r.traces("OTEL_EXPORTER_OTLP_%sENDPOINT"),
                    "certificates are set but the endpoint " + endpoint + " is plaintext; use https://");
        }
        Optional<String> serviceName = r.text("OTEL_SERVICE_NAME");
        Map<String, String> resource = r.pairs("OTEL_RESOURCE_ATTRIBUTES");
        Sampler sampler = Sampler.valueOf(r.oneOf(
                        "OTEL_TRACES_SAMPLER",
                        "parentbased_always_on",
                        java.util.Arrays.stream(Sampler.values())
                                .map(s -> s.value)
                                .toList(),
                        "")
                .toUpperCase(Locale.ROOT));
        double ratio = r.ratio("OTEL_TRACES_SAMPLER_ARG");
        List<Propagator> propagators = r.propagators("OTEL_PROPAGATORS");
        int queue = r.integer("OTEL_BSP_MAX_QUEUE_SIZE", 2048, 1);
        int batchSize = r.integer("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512, 1);
        if (batchSize > queue) {
            r.problem(
                    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
                    "is " + batchSize + ", larger than OTEL_BSP_MAX_QUEUE_SIZE (" + queue + ")");
        }
        Batch batch = new Batch(
                r.millis("OTEL_BSP_SCHEDULE_DELAY", 5_000, 0),
                r.millis("OTEL_BSP_EXPORT_TIMEOUT", 30_000, 1),
                queue,
                batchSize);
        r.throwIfAny();
        assert protocol.equals("grpc");
        return new TracingSettings(
                !sdkDisabled && exporter.equals("otlp"),
                endpoint,
                headers,
                timeout,
                gzip,
                ca,
                clientCert,
                clientKey,
                serviceName,
                resource,
                sampler,
                ratio,
                propagators,
                batch);
    }

    /** Collects problems while reading; values of bad entries fall back to their defaults so reading can go on. */
    private static final class Reader {
        private final Map<String, String> env;
        private final List<ConfigProblem> problems = new ArrayList<>();

        Reader(Map<String, String> env) {
            this.env = env;
        }

        /** The per-signal name ({@code OTEL_EXPORTER_OTLP_TRACES_X}) when set, the general one otherwise. */
        String traces(String pattern) {
            String specific = String.format(Locale.ROOT, pattern, "TRACES_");
            return value(specific).isPresent() ? specific : String.format(Locale.ROOT, pattern, "");
        }

        Optional<String> value(String name) {
            String v = env.get(name);
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
        }

        Optional<String> text(String name) {
            return value(name);
        }

        void problem(String name, String message) {
            problems.add(new ConfigProblem("env " + name, message));
        }

        boolean bool(String name, boolean fallback) {
            Optional<String> v = value(name);
            if (v.isEmpty()) {
                return fallback;
            }
            String s = v.get().toLowerCase(Locale.ROOT);
            if (s.equals("true") || s.equals("false")) {
                return s.equals("true");
            }
            problem(name, "'" + v.get() + "' is not true or false");
            return fallback;
        }

        String oneOf(String name, String fallback, List<String> allowed, String why) {
            Optional<String> v = value(name).map(s -> s.toLowerCase(Locale.ROOT));
            if (v.isEmpty()) {
                return fallback;
            }
            if (allowed.contains(v.get())) {
                return v.get();
            }
            problem(name, "'" + v.get() + "' is not one of " + allowed + (why.isEmpty() ? "" : " (" + why + ")"));
            return fallback;
        }

        int integer(String name, int fallback, int min) {
            Optional<String> v = value(name);
            if (v.isEmpty()) {
                return fallback;
            }
            try {
                int n = Integer.parseInt(v.get());
                if (n >= min) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            problem(name, "'" + v.get() + "' is not a whole number >= " + min);
            return fallback;
        }

        Duration millis(String name, int fallback, int min) {
            return Duration.ofMillis(integer(name, fallback, min));
        }

        double ratio(String name) {
            Optional<String> v = value(name);
            if (v.isEmpty()) {
                return 1.0;
            }
            try {
                double d = Double.parseDouble(v.get());
                if (d >= 0 && d <= 1) {
                    return d;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            problem(name, "'" + v.get() + "' is not a sampling ratio between 0 and 1");
            return 1.0;
        }

        URI endpoint(String name) {
            Optional<String> v = value(name);
            if (v.isEmpty()) {
                return DEFAULT_ENDPOINT;
            }
            try {
                URI uri = new URI(v.get());
                String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
                boolean rootPath = uri.getRawPath() == null
                        || uri.getRawPath().isEmpty()
                        || uri.getRawPath().equals("/");
                if ((scheme.equals("http") || scheme.equals("https"))
                        && uri.getHost() != null
                        && rootPath
                        && uri.getRawQuery() == null
                        && uri.getRawUserInfo() == null) {
                    return uri;
                }
            } catch (java.net.URISyntaxException e) {
                // reported below
            }
            problem(
                    name,
                    "'" + v.get() + "' is not an OTLP/gRPC endpoint like http://otel-collector:4317 or "
                            + "https://otel-collector:4317 (scheme, host, optional port, no path)");
            return DEFAULT_ENDPOINT;
        }

        /** {@code key=value,key2=value2} with URL-encoded values (W3C baggage octets). Values are never echoed. */
        Map<String, String> pairs(String name) {
            Optional<String> v = value(name);
            Map<String, String> out = new LinkedHashMap<>();
            if (v.isEmpty()) {
                return out;
            }
            int index = 0;
            for (String entry : v.get().split(",", -1)) {
                index++;
                int eq = entry.indexOf('=');
                String key = eq < 0 ? "" : entry.substring(0, eq).strip();
                if (eq < 0 || key.isEmpty()) {
                    problem(name, "entry " + index + " is not key=value");
                    continue;
                }
                try {
                    out.put(key, URLDecoder.decode(entry.substring(eq + 1).strip(), StandardCharsets.UTF_8));
                } catch (IllegalArgumentException e) {
                    problem(name, "the value of '" + key + "' is not valid URL encoding");
                }
            }
            return out;
        }

        Optional<Path> file(String name) {
            Optional<String> v = value(name);
            if (v.isEmpty()) {
                return Optional.empty();
            }
            Path path = Path.of(v.get());
            if (!Files.isRegularFile(path) || !Files.isReadable(path)) {
                problem(name, "file " + path + " does not exist or cannot be read");
                return Optional.empty();
            }
            return Optional.of(path);
        }

        List<Propagator> propagators(String name) {
            Optional<String> v = value(name);
            if (v.isEmpty()) {
                return DEFAULT_PROPAGATORS;
            }
            List<Propagator> out = new ArrayList<>();
            for (String part : v.get().split(",", -1)) {
                String p = part.strip().toLowerCase(Locale.ROOT);
                if (p.equals("none")) {
                    continue;
                }
                Optional<Propagator> known = java.util.Arrays.stream(Propagator.values())
                        .filter(x -> x.value.equals(p))
                        .findFirst();
                if (known.isEmpty()) {
                    problem(name, "'" + part.strip() + "' is not one of [tracecontext, baggage, b3, b3multi, none]");
                } else if (!out.contains(known.get())) {
                    out.add(known.get());
                }
            }
            return out;
        }

        void throwIfAny() throws ConfigException {
            if (!problems.isEmpty()) {
                throw new ConfigException(problems);
            }
        }
    }
}
