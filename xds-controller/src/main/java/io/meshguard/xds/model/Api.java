package io.meshguard.xds.model;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * An API under {@code basePath}, with its versions; gateway groups serve it through their routes. Requests to
 * {@code basePath/<version>/…} go to that version; requests without a version go to {@code defaultVersion}.
 *
 * @param hostnames hostnames of this API; empty means the group's hostnames or the generated one
 */
public record Api(
        String name, String basePath, String defaultVersion, List<String> hostnames, List<ApiVersion> versions) {

    public Api {
        basePath = basePath == null ? "" : basePath;
        defaultVersion = defaultVersion == null ? "" : defaultVersion;
        hostnames = hostnames == null ? List.of() : List.copyOf(hostnames);
        versions = versions == null ? List.of() : List.copyOf(versions);
    }

    public Optional<ApiVersion> version(String v) {
        return versions.stream().filter(x -> x.version().equals(v)).findFirst();
    }

    /** Lifecycle of an API version as clients see it. */
    public enum Status {
        /** Served normally. */
        ACTIVE,
        /** Served with Deprecation, Sunset and successor Link response headers. */
        DEPRECATED,
        /** Answered with 410 Gone and a JSON body pointing at the successor. */
        SUNSET,
        /** Answered with 404 Not Found. */
        RETIRED
    }

    /**
     * One version of the API.
     *
     * @param deprecatedAt when it was (or will be) deprecated — the {@code Deprecation} header value
     * @param sunsetAt when it stops answering — the {@code Sunset} header value
     * @param successor the version clients should move to
     */
    public record ApiVersion(
            String version,
            Status status,
            Optional<Instant> deprecatedAt,
            Optional<Instant> sunsetAt,
            Optional<String> successor) {
        public ApiVersion {
            status = status == null ? Status.ACTIVE : status;
            deprecatedAt = deprecatedAt == null ? Optional.empty() : deprecatedAt;
            sunsetAt = sunsetAt == null ? Optional.empty() : sunsetAt;
            successor = successor == null ? Optional.empty() : successor;
        }
    }
}
