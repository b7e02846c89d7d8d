package io.meshguard.runtime.tracing;

/**
 * A gRPC method as OpenTelemetry's RPC conventions name it: span name {@code service/method}, attributes
 * {@code rpc.system=grpc}, {@code rpc.service}, {@code rpc.method}.
 *
 * @param service fully qualified service, e.g. {@code envoy.service.auth.v3.Authorization}
 * @param method method name, e.g. {@code Check}
 */
public record RpcMethod(String service, String method) {
    /** {@code envoy.service.auth.v3.Authorization/Check}. */
    public static final RpcMethod AUTHZ_CHECK = new RpcMethod("envoy.service.auth.v3.Authorization", "Check");
    /** {@code envoy.service.ext_proc.v3.ExternalProcessor/Process}. */
    public static final RpcMethod EXT_PROC_PROCESS =
            new RpcMethod("envoy.service.ext_proc.v3.ExternalProcessor", "Process");

    /** The span name. */
    public String spanName() {
        return service + "/" + method;
    }
}
