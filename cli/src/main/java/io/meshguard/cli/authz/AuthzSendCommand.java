package io.meshguard.cli.authz;

import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.meshguard.cli.common.GrpcTarget;
import io.meshguard.cli.common.RunningStack;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.tools.CheckRequests;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard authz send}: one Check to a running extauthz over gRPC, built as Envoy builds it, and the answer
 * printed for a person: allowed or denied, the reason, and every header set (with its append mode) or removed.
 */
@Command(
        name = "send",
        mixinStandardHelpOptions = true,
        description = {
            "Send one ext_authz Check to the running extauthz (as Envoy does) and print the decision.",
            "Exit 0 when a decision came back (allowed or denied), 1 when the server could not be asked."
        })
final class AuthzSendCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    GrpcTarget server = new GrpcTarget();

    @Option(names = "--method", defaultValue = "GET", description = "HTTP method (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--host", required = true, description = "Host (:authority), e.g. demo.local.")
    String host;

    @Option(names = "--path", required = true, description = "Path with query, e.g. /demo/x.")
    String path;

    @Option(
            names = {"-H", "--header"},
            paramLabel = "NAME=VALUE",
            description = "A request header (repeatable), e.g. \"authorization=Bearer $TOKEN\".")
    List<String> headers = new ArrayList<>();

    @Option(
            names = "--context",
            paramLabel = "KEY=VALUE",
            description = "A context extension the gateway route sets (repeatable).")
    Map<String, String> context = new LinkedHashMap<>();

    @Option(
            names = "--authz-profile",
            paramLabel = "NAME",
            description = "The authz rule a gateway route names (sent as the route contract's context extension).")
    String authzProfile;

    @Override
    public Integer call() throws Exception {
        if (authzProfile != null) {
            context.put(RouteContract.AuthzContext.AUTHZ_PROFILE, authzProfile);
        }
        Map<String, List<String>> headerMap = new LinkedHashMap<>();
        for (String header : headers) {
            int eq = header.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--header: expected NAME=VALUE, got '" + header + "'");
            }
            headerMap
                    .computeIfAbsent(header.substring(0, eq).trim(), k -> new ArrayList<>())
                    .add(header.substring(eq + 1));
        }
        CheckRequest request = CheckRequests.of(method, host, path, headerMap, context, CheckRequests.Encoding.HEADERS);
        ManagedChannel channel = server.channel(RunningStack.EXTAUTHZ);
        CheckResponse response;
        try {
            response = AuthorizationGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(Duration.ofSeconds(10))
                    .check(request);
        } catch (StatusRuntimeException e) {
            throw new IllegalStateException(
                    "extauthz at " + server.resolve(RunningStack.EXTAUTHZ) + " did not answer: " + e.getStatus(), e);
        } finally {
            channel.shutdownNow();
        }
        print(response, spec.commandLine().getOut());
        return 0;
    }

    /** The answer as a person reads it; what Envoy does with each part is said in words. */
    static void print(CheckResponse response, PrintWriter out) {
        if (response.hasOkResponse()) {
            out.println("ALLOWED (gRPC OK): the request goes on to the upstream");
            var ok = response.getOkResponse();
            for (HeaderValueOption h : ok.getHeadersList()) {
                out.printf(
                        "  upstream header set:     %s: %s  (%s)%n",
                        h.getHeader().getKey(), value(h), mode(h));
            }
            for (String removed : ok.getHeadersToRemoveList()) {
                out.printf("  upstream header removed: %s%n", removed);
            }
            for (HeaderValueOption h : ok.getResponseHeadersToAddList()) {
                out.printf(
                        "  client response header:  %s: %s  (%s)%n",
                        h.getHeader().getKey(), value(h), mode(h));
            }
        } else {
            var denied = response.getDeniedResponse();
            // a local reply that is no refusal (an MCP server's metadata) is still not forwarded
            out.printf(
                    denied.getStatus().getCodeValue() < 400
                            ? "ANSWERED: HTTP %d to the client by extauthz, not forwarded, reason %s (gRPC code %d)%n"
                            : "DENIED: HTTP %d to the client, reason %s (gRPC code %d)%n",
                    denied.getStatus().getCodeValue(),
                    response.getStatus().getMessage().isEmpty()
                            ? "-"
                            : response.getStatus().getMessage(),
                    response.getStatus().getCode());
            for (HeaderValueOption h : denied.getHeadersList()) {
                out.printf(
                        "  client response header:  %s: %s  (%s)%n",
                        h.getHeader().getKey(), value(h), mode(h));
            }
            if (!denied.getBody().isEmpty()) {
                out.println("  body: " + denied.getBody());
            }
        }
        out.flush();
    }

    private static String value(HeaderValueOption h) {
        return h.getHeader().getRawValue().isEmpty()
                ? h.getHeader().getValue()
                : h.getHeader().getRawValue().toStringUtf8();
    }

    /** Envoy's rule: {@code append} (when present) wins over {@code append_action} in older Envoy; both are shown. */
    private static String mode(HeaderValueOption h) {
        String action =
                switch (h.getAppendAction()) {
                    case OVERWRITE_IF_EXISTS_OR_ADD -> "overwrite";
                    case ADD_IF_ABSENT -> "add if absent";
                    case OVERWRITE_IF_EXISTS -> "overwrite if present";
                    case APPEND_IF_EXISTS_OR_ADD -> "append";
                    default -> h.getAppendAction().name();
                };
        return h.hasAppend() ? action + ", append=" + h.getAppend().getValue() : action;
    }
}
