package io.meshguard.dlpserver;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.meshguard.contract.RouteContract;
import java.util.Optional;

/**
 * What the Envoy route said about a stream: the gateway's xDS routes add the {@link RouteContract.DlpMetadata} keys to
 * the ext_proc stream's initial metadata (ExtProcPerRoute overrides); an Envoy Gateway route, which cannot, calls
 * through a Backend whose name carries the profile into the stream's {@code :authority}
 * ({@link RouteContract.DlpAuthority}). Both are operator configuration carried by Envoy on its own gRPC stream,
 * never a header a client can set (the HTTP request's headers reach this server only inside the processing messages,
 * which never choose the profile).
 *
 * @param profile the dlp.yaml profile the route asks for; empty = choose by host, path and content type; a name the
 *     policy lacks fails the stream closed (docs/route-contract.md)
 * @param route the route's name for metrics and audit; empty when the stream came without one (Istio sidecars)
 */
public record RouteHint(Optional<String> profile, String route) {
    public static final Metadata.Key<String> PROFILE_KEY =
            Metadata.Key.of(RouteContract.DlpMetadata.DLP_PROFILE, Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> ROUTE_KEY =
            Metadata.Key.of(RouteContract.DlpMetadata.GATEWAY_ROUTE, Metadata.ASCII_STRING_MARSHALLER);
    public static final RouteHint NONE = new RouteHint(Optional.empty(), "");

    private static final Context.Key<RouteHint> CURRENT = Context.keyWithDefault("meshguard-route-hint", NONE);

    /** The hint of the call being served (NONE outside a call or when the metadata carried none). */
    static RouteHint current() {
        return CURRENT.get();
    }

    /**
     * The hint of a stream from its initial metadata and {@code :authority}: the metadata's profile when it names one
     * (meshguard's gateway), else the one the authority names (Envoy Gateway), else none.
     */
    static RouteHint of(Metadata headers, String authority) {
        String profile = headers.get(PROFILE_KEY);
        String route = headers.get(ROUTE_KEY);
        return new RouteHint(
                Optional.ofNullable(profile)
                        .map(String::strip)
                        .filter(p -> !p.isEmpty())
                        .or(() -> RouteContract.DlpAuthority.profileOf(authority)),
                route == null ? "" : route.strip());
    }

    /**
     * Puts each call's hint into its gRPC context while the call starts, where {@link #current()} finds it: the
     * service reads it once, when {@code process} opens the stream's session, so the context is not attached again
     * around every later message of the stream.
     */
    static ServerInterceptor interceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(
                    ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                Context withHint = Context.current().withValue(CURRENT, of(headers, call.getAuthority()));
                Context previous = withHint.attach();
                try {
                    return next.startCall(call, headers);
                } finally {
                    withHint.detach(previous);
                }
            }
        };
    }
}
