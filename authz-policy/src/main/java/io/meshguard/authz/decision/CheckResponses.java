package io.meshguard.authz.decision;

import com.google.protobuf.BoolValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.service.auth.v3.OkHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.contract.RouteContract.AccessLogTags;
import java.util.Map;
import java.util.Optional;

/**
 * Turns a {@link Decision} into Envoy's CheckResponse. Allow: every overwriting header carries BOTH
 * {@code append=false} (older Envoy, which checks {@code has_append()} first) and
 * {@code append_action=OVERWRITE_IF_EXISTS_OR_ADD} (newer Envoy and grpc-java, which ignore {@code append});
 * {@code headers_to_remove} never names a header we set, because Envoy removes after setting. Deny: the HTTP status
 * goes in {@code denied_response.status} (Envoy ignores the gRPC code for it) and the gRPC status is non-OK.
 */
public final class CheckResponses {
    private static final HeaderOptions OPTIONS = new HeaderOptions();
    private static final Status OK = Status.newBuilder().setCode(Code.OK_VALUE).build();

    private CheckResponses() {}

    public static CheckResponse toResponse(Decision d) {
        return d.allowed() ? allow(d, Optional.empty()) : deny(d);
    }

    /**
     * The answer, an allow carrying {@code nonce} as dynamic metadata: Envoy's ext_authz filter puts an OK answer's
     * top-level {@code dynamic_metadata} into the stream's {@code envoy.filters.http.ext_authz} namespace, where the
     * gRPC access logger reads it. Set at the top level only: a deprecated {@code ok_response.dynamic_metadata} would
     * replace it (ext_authz_grpc_impl.cc).
     */
    public static CheckResponse toResponse(Decision d, Optional<String> nonce) {
        return d.allowed() ? allow(d, nonce) : deny(d);
    }

    private static CheckResponse allow(Decision d, Optional<String> nonce) {
        OkHttpResponse.Builder ok = OkHttpResponse.newBuilder();
        for (HeaderMutation m : d.headersSet()) {
            ok.addHeaders(OPTIONS.of(m));
        }
        ok.addAllHeadersToRemove(d.headersRemoved());
        // Rate-limit headers for the client: Envoy keeps response_headers_to_add and applies them to the upstream's
        // response in encodeHeaders (source/extensions/filters/http/ext_authz/ext_authz.cc); append=false puts them in
        // response_headers_to_set, i.e. setCopy over whatever the upstream sent
        // (source/extensions/filters/common/ext_authz/ext_authz_grpc_impl.cc).
        for (Map.Entry<String, String> h : d.responseHeaders().entrySet()) {
            ok.addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                    .setHeader(HeaderValue.newBuilder().setKey(h.getKey()).setValue(h.getValue()))
                    .setAppend(BoolValue.of(false))
                    .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
        }
        ok.addResponseHeadersToAdd(HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey("x-request-id").setValue(d.requestId()))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.ADD_IF_ABSENT));
        CheckResponse.Builder response =
                CheckResponse.newBuilder().setStatus(OK).setOkResponse(ok);
        nonce.ifPresent(n -> response.setDynamicMetadata(Struct.newBuilder()
                .putFields(
                        AccessLogTags.AUTHZ_NONCE,
                        Value.newBuilder().setStringValue(n).build())));
        return response.build();
    }

    private static CheckResponse deny(Decision d) {
        DeniedHttpResponse.Builder denied = DeniedHttpResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder()
                        .setCode(
                                StatusCode.forNumber(d.status()) == null
                                        ? StatusCode.Forbidden
                                        : StatusCode.forNumber(d.status())))
                .setBody(d.body());
        for (Map.Entry<String, String> h : d.responseHeaders().entrySet()) {
            denied.addHeaders(HeaderValueOption.newBuilder()
                    .setHeader(HeaderValue.newBuilder().setKey(h.getKey()).setValue(h.getValue()))
                    .setAppend(BoolValue.of(false))
                    .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
        }
        return CheckResponse.newBuilder()
                .setStatus(Status.newBuilder()
                        .setCode(grpcCode(d.status()).getNumber())
                        .setMessage(d.reason().code()))
                .setDeniedResponse(denied)
                .build();
    }

    /** The gRPC code grpc-java clients see; Envoy uses only denied_response.status for HTTP. */
    private static Code grpcCode(int status) {
        return switch (status) {
            case 400 -> Code.INVALID_ARGUMENT;
            case 401 -> Code.UNAUTHENTICATED;
            case 429 -> Code.RESOURCE_EXHAUSTED;
            case 503 -> Code.UNAVAILABLE;
            default -> Code.PERMISSION_DENIED;
        };
    }
}
