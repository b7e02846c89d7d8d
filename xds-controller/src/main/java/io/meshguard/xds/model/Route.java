package io.meshguard.xds.model;

import java.util.List;
import java.util.Optional;

/**
 * One route of a gateway group, serving an API version. The match path is relative to the version root: {@code /transfers} in version
 * {@code v2} of an API at {@code /payments} serves {@code /payments/v2/transfers} (and {@code /payments/transfers}
 * when v2 is the default version).
 *
 * @param timeoutMs whole-request timeout, 15 s when empty; 0 disables it
 * @param idleTimeoutMs stream idle timeout; empty keeps Envoy's default
 * @param streaming a long-lived response (SSE, gRPC server streaming): no request timeout, bodies streamed, never
 *     buffered
 * @param authzProfile handed to extauthz-server as {@code RouteContract.AuthzContext.AUTHZ_PROFILE}; must name an authz.yaml rule
 * @param dlpProfile handed to extproc-dlp-server as {@code RouteContract.DlpMetadata.DLP_PROFILE}; must name a dlp.yaml profile
 * @param product set on the routes a product publish compiles to ({@code io.meshguard.xds.product.ProductRoutes}):
 *     served on the publish's own host only, and admitted by extauthz only on a live subscription; never written by
 *     hand (the draft tables have no column for it)
 */
public record Route(
        String name,
        String group,
        String api,
        String version,
        Match match,
        List<Destination> destinations,
        Optional<Long> timeoutMs,
        Optional<Long> idleTimeoutMs,
        boolean streaming,
        Optional<Retry> retry,
        List<HeaderValue> requestHeadersToAdd,
        List<String> requestHeadersToRemove,
        List<HeaderValue> responseHeadersToAdd,
        String authzProfile,
        String dlpProfile,
        Optional<ProductBinding> product) {

    public static final long DEFAULT_TIMEOUT_MS = 15_000;
    public static final String DEFAULT_PROFILE = "default";

    public Route {
        destinations = destinations == null ? List.of() : List.copyOf(destinations);
        timeoutMs = timeoutMs == null ? Optional.empty() : timeoutMs;
        idleTimeoutMs = idleTimeoutMs == null ? Optional.empty() : idleTimeoutMs;
        retry = retry == null ? Optional.empty() : retry;
        requestHeadersToAdd = requestHeadersToAdd == null ? List.of() : List.copyOf(requestHeadersToAdd);
        requestHeadersToRemove = requestHeadersToRemove == null ? List.of() : List.copyOf(requestHeadersToRemove);
        responseHeadersToAdd = responseHeadersToAdd == null ? List.of() : List.copyOf(responseHeadersToAdd);
        authzProfile = authzProfile == null || authzProfile.isBlank() ? DEFAULT_PROFILE : authzProfile;
        dlpProfile = dlpProfile == null || dlpProfile.isBlank() ? DEFAULT_PROFILE : dlpProfile;
        product = product == null ? Optional.empty() : product;
    }

    /** Same route with other destinations (a canary weight change). */
    public Route withDestinations(List<Destination> newDestinations) {
        return copy(name, group, match, newDestinations, product);
    }

    /** Same route in another gateway group. */
    public Route withGroup(String newGroup) {
        return copy(name, newGroup, match, destinations, product);
    }

    /** Same route as one operation of a product publish. */
    public Route asProduct(String newName, Match newMatch, ProductBinding binding) {
        return copy(newName, group, newMatch, destinations, Optional.of(binding));
    }

    /** This route's settings under another name, group, match, destinations or product. */
    private Route copy(
            String newName,
            String newGroup,
            Match newMatch,
            List<Destination> newDestinations,
            Optional<ProductBinding> newProduct) {
        return new Route(
                newName,
                newGroup,
                api,
                version,
                newMatch,
                newDestinations,
                timeoutMs,
                idleTimeoutMs,
                streaming,
                retry,
                requestHeadersToAdd,
                requestHeadersToRemove,
                responseHeadersToAdd,
                authzProfile,
                dlpProfile,
                newProduct);
    }

    /**
     * Which product publish and operation a compiled route serves, and on which host.
     *
     * @param publish the product publish id, handed to extauthz as {@code meshguard.product_publish}
     * @param operation the product's operation id, handed as {@code meshguard.product_operation} (per-operation limits)
     * @param host {@code {product}.{environment}.{cluster-region}.api.{domain}}
     * @param authMode the credentials the publish takes: {@code none}, {@code apikey} or {@code oauth2}
     */
    public record ProductBinding(String publish, String operation, String host, String authMode) {
        public ProductBinding {
            java.util.Objects.requireNonNull(publish, "publish");
            java.util.Objects.requireNonNull(operation, "operation");
            java.util.Objects.requireNonNull(host, "host");
            java.util.Objects.requireNonNull(authMode, "authMode");
        }
    }

    /**
     * Request match. Exactly one of the path fields is set.
     *
     * @param pathRegex RE2 syntax (Envoy's safe_regex), relative to the version root
     */
    public record Match(
            Optional<String> pathPrefix,
            Optional<String> pathExact,
            Optional<String> pathRegex,
            List<String> methods,
            List<HeaderMatch> headers) {
        public Match {
            pathPrefix = pathPrefix == null ? Optional.empty() : pathPrefix;
            pathExact = pathExact == null ? Optional.empty() : pathExact;
            pathRegex = pathRegex == null ? Optional.empty() : pathRegex;
            methods = methods == null ? List.of() : List.copyOf(methods);
            headers = headers == null ? List.of() : List.copyOf(headers);
        }

        public static Match prefix(String prefix) {
            return new Match(Optional.of(prefix), Optional.empty(), Optional.empty(), List.of(), List.of());
        }
    }

    /** Header condition: exactly one of exact, prefix, regex; or only presence when none is set. */
    public record HeaderMatch(String name, Optional<String> exact, Optional<String> prefix, Optional<String> regex) {
        public HeaderMatch {
            exact = exact == null ? Optional.empty() : exact;
            prefix = prefix == null ? Optional.empty() : prefix;
            regex = regex == null ? Optional.empty() : regex;
        }
    }

    /** A weighted share of the traffic; the weights of a route sum to 100. */
    public record Destination(String upstream, int weight) {}

    /** Retries with exponential backoff. */
    public record Retry(
            int attempts, String retryOn, Optional<Long> perTryTimeoutMs, long backoffBaseMs, long backoffMaxMs) {
        public Retry {
            retryOn = retryOn == null || retryOn.isBlank() ? "5xx,reset,connect-failure" : retryOn;
            perTryTimeoutMs = perTryTimeoutMs == null ? Optional.empty() : perTryTimeoutMs;
            backoffBaseMs = backoffBaseMs == 0 ? 25 : backoffBaseMs;
            backoffMaxMs = backoffMaxMs == 0 ? backoffBaseMs * 10 : backoffMaxMs;
        }
    }

    /** A header set on the request or the response; always overwrites a value of the same name. */
    public record HeaderValue(String name, String value) {}
}
