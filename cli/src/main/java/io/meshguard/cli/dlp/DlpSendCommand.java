package io.meshguard.cli.dlp;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.meshguard.cli.common.GrpcTarget;
import io.meshguard.cli.common.RunningStack;
import io.meshguard.contract.RouteContract;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard dlp send}: one HTTP body through the running DLP server over a real ext_proc stream, exchanged as
 * the gateways {@code meshguard up}'s xDS controller configures do (headers SEND, bodies FULL_DUPLEX_STREAMED, see
 * xds-controller's SnapshotBuilder), and what the other side would receive printed: header changes, then the body,
 * or the local reply when DLP blocks.
 */
@Command(
        name = "send",
        mixinStandardHelpOptions = true,
        description = {
            "Send one body through the running DLP server (ext_proc, as Envoy does) and print what the "
                    + "upstream (or with --response, the client) would receive. Exit 0 when the exchange "
                    + "completed (forwarded or blocked), 1 when the server could not be asked."
        })
final class DlpSendCommand implements Callable<Integer> {
    private static final long WAIT_SECONDS = 30;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    GrpcTarget server = new GrpcTarget();

    @Option(names = "--body", paramLabel = "TEXT", description = "The body.")
    String body;

    @Option(names = "--body-file", paramLabel = "FILE", description = "The body, read from a file (bytes as they are).")
    Path bodyFile;

    @Option(
            names = "--content-type",
            defaultValue = "application/json",
            description = "Content type (default: ${DEFAULT-VALUE}).")
    String contentType;

    @Option(names = "--method", defaultValue = "POST", description = "HTTP method (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(
            names = "--host",
            defaultValue = "demo.local",
            description = "Host (:authority) (default: ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--path", defaultValue = "/demo/x", description = "Path (default: ${DEFAULT-VALUE}).")
    String path;

    @Option(
            names = {"-H", "--header"},
            paramLabel = "NAME=VALUE",
            description = "Another header (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(
            names = "--metadata",
            paramLabel = "KEY=VALUE",
            description =
                    "gRPC initial metadata of the stream, as a gateway route's ext_proc grpc_initial_metadata sets it (repeatable).")
    Map<String, String> metadata = new LinkedHashMap<>();

    @Option(
            names = "--profile",
            paramLabel = "NAME",
            description =
                    "The DLP profile a gateway route names (sent as the route contract's stream metadata); without it the server picks by host and path.")
    String profile;

    @Option(
            names = "--response",
            description = "Send the body as the upstream's response (status 200) rather than as the request.")
    boolean asResponse;

    @Override
    public Integer call() throws Exception {
        if ((body == null) == (bodyFile == null)) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "give the body with --body TEXT or --body-file FILE");
        }
        byte[] bytes = body != null ? body.getBytes(StandardCharsets.UTF_8) : Files.readAllBytes(bodyFile);
        Metadata initial = new Metadata();
        metadata.forEach((k, v) -> initial.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
        if (profile != null) {
            initial.put(
                    Metadata.Key.of(RouteContract.DlpMetadata.DLP_PROFILE, Metadata.ASCII_STRING_MARSHALLER), profile);
        }
        ManagedChannel channel = server.channel(RunningStack.DLP);
        try (Exchange exchange = new Exchange(channel, initial)) {
            PrintWriter out = spec.commandLine().getOut();
            String target = server.resolve(RunningStack.DLP);
            Result result = asResponse
                    ? exchange.response(requestHeaders(true), responseHeaders(bytes.length), bytes)
                    : exchange.request(requestHeaders(false, bytes.length), bytes);
            result.print(out, asResponse ? "client" : "upstream");
            out.flush();
            if (result.failure != null) {
                throw new IllegalStateException("the DLP server at " + target + " did not answer: " + result.failure);
            }
            return 0;
        } finally {
            channel.shutdownNow();
        }
    }

    private HttpHeaders requestHeaders(boolean endOfStream, int... contentLength) {
        List<String> kv =
                new ArrayList<>(List.of(":method", method, ":path", path, ":authority", host, ":scheme", "https"));
        if (!asResponse) {
            kv.addAll(List.of("content-type", contentType, "content-length", Integer.toString(contentLength[0])));
        }
        for (String header : headers) {
            int eq = header.indexOf('=');
            if (eq <= 0) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--header: expected NAME=VALUE, got '" + header + "'");
            }
            kv.add(header.substring(0, eq).trim().toLowerCase(java.util.Locale.ROOT));
            kv.add(header.substring(eq + 1));
        }
        return headers(endOfStream, kv);
    }

    private HttpHeaders responseHeaders(int contentLength) {
        return headers(
                false,
                List.of(
                        ":status",
                        "200",
                        "content-type",
                        contentType,
                        "content-length",
                        Integer.toString(contentLength)));
    }

    private static HttpHeaders headers(boolean endOfStream, List<String> kv) {
        HeaderMap.Builder map = HeaderMap.newBuilder();
        for (int i = 0; i < kv.size(); i += 2) {
            map.addHeaders(HeaderValue.newBuilder()
                    .setKey(kv.get(i))
                    .setRawValue(ByteString.copyFrom(kv.get(i + 1), StandardCharsets.UTF_8)));
        }
        return HttpHeaders.newBuilder()
                .setHeaders(map)
                .setEndOfStream(endOfStream)
                .build();
    }

    /** What came back: header changes and body pieces of the direction sent, or a local reply, or a failure. */
    private static final class Result {
        final List<String> headerChanges = new ArrayList<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        ProcessingResponse localReply;
        String failure;

        void print(PrintWriter out, String receiver) {
            if (localReply != null) {
                var reply = localReply.getImmediateResponse();
                out.printf(
                        "BLOCKED: HTTP %d to the client instead; no byte of the body reaches the %s%n",
                        reply.getStatus().getCodeValue(), receiver);
                for (HeaderValueOption h : reply.getHeaders().getSetHeadersList()) {
                    out.printf(
                            "  client response header: %s: %s%n", h.getHeader().getKey(), value(h));
                }
                out.println("  body: " + reply.getBody().toStringUtf8());
                return;
            }
            if (failure != null) {
                return;
            }
            out.printf("FORWARDED: the %s receives%n", receiver);
            headerChanges.forEach(change -> out.println("  " + change));
            out.println("--- body ---");
            // Exactly the bytes that would go on, and nothing after them: a body without a final newline stays so.
            out.print(body.toString(StandardCharsets.UTF_8));
            if (body.size() > 0 && !body.toString(StandardCharsets.UTF_8).endsWith("\n")) {
                out.println();
                out.println("--- (no newline at the end of the body) ---");
            }
        }

        void headers(CommonResponse common) {
            for (HeaderValueOption h : common.getHeaderMutation().getSetHeadersList()) {
                headerChanges.add("header set:     " + h.getHeader().getKey() + ": " + value(h) + "  ("
                        + h.getAppendAction().name().toLowerCase(java.util.Locale.ROOT) + ")");
            }
            for (String removed : common.getHeaderMutation().getRemoveHeadersList()) {
                headerChanges.add("header removed: " + removed);
            }
        }

        private static String value(HeaderValueOption h) {
            return h.getHeader().getRawValue().isEmpty()
                    ? h.getHeader().getValue()
                    : h.getHeader().getRawValue().toStringUtf8();
        }
    }

    /** One ext_proc stream, message by message, as Envoy plays it. */
    private static final class Exchange implements AutoCloseable {
        private final BlockingQueue<Object> received = new LinkedBlockingQueue<>();
        private final ClientCallStreamObserver<ProcessingRequest> requests;
        private boolean first = true;

        @SuppressWarnings("unchecked")
        Exchange(ManagedChannel channel, Metadata initial) {
            ClientCallStreamObserver<ProcessingRequest>[] holder = new ClientCallStreamObserver[1];
            ExternalProcessorGrpc.newStub(channel)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(initial))
                    .process(new ClientResponseObserver<ProcessingRequest, ProcessingResponse>() {
                        @Override
                        public void beforeStart(ClientCallStreamObserver<ProcessingRequest> stream) {
                            holder[0] = stream;
                        }

                        @Override
                        public void onNext(ProcessingResponse response) {
                            received.add(response);
                        }

                        @Override
                        public void onError(Throwable t) {
                            received.add(t);
                        }

                        @Override
                        public void onCompleted() {
                            received.add("the server ended the stream");
                        }
                    });
            this.requests = holder[0];
        }

        Result request(HttpHeaders headers, byte[] body) throws InterruptedException {
            Result result = new Result();
            send(ProcessingRequest.newBuilder().setRequestHeaders(headers));
            ProcessingResponse answer = next(result);
            if (answer == null || stop(answer, result)) {
                return result;
            }
            result.headers(answer.getRequestHeaders().getResponse());
            send(ProcessingRequest.newBuilder()
                    .setRequestBody(HttpBody.newBuilder()
                            .setBody(ByteString.copyFrom(body))
                            .setEndOfStream(true)));
            collectBody(result, true);
            return result;
        }

        Result response(HttpHeaders request, HttpHeaders response, byte[] body) throws InterruptedException {
            Result result = new Result();
            send(ProcessingRequest.newBuilder().setRequestHeaders(request));
            ProcessingResponse answer = next(result);
            if (answer == null || stop(answer, result)) {
                return result;
            }
            send(ProcessingRequest.newBuilder().setResponseHeaders(response));
            answer = next(result);
            if (answer == null || stop(answer, result)) {
                return result;
            }
            result.headers(answer.getResponseHeaders().getResponse());
            send(ProcessingRequest.newBuilder()
                    .setResponseBody(HttpBody.newBuilder()
                            .setBody(ByteString.copyFrom(body))
                            .setEndOfStream(true)));
            collectBody(result, false);
            return result;
        }

        /** FULL_DUPLEX_STREAMED: body pieces come back as they are decided; the last has end_of_stream. */
        private void collectBody(Result result, boolean request) throws InterruptedException {
            while (true) {
                ProcessingResponse answer = next(result);
                if (answer == null || stop(answer, result)) {
                    return;
                }
                CommonResponse common = request
                        ? answer.getRequestBody().getResponse()
                        : answer.getResponseBody().getResponse();
                var piece = common.getBodyMutation().getStreamedResponse();
                result.body.writeBytes(piece.getBody().toByteArray());
                if (piece.getEndOfStream()) {
                    return;
                }
            }
        }

        private static boolean stop(ProcessingResponse answer, Result result) {
            if (answer.hasImmediateResponse()) {
                result.localReply = answer;
                return true;
            }
            return false;
        }

        private ProcessingResponse next(Result result) throws InterruptedException {
            Object o = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            if (o instanceof ProcessingResponse r) {
                return r;
            }
            result.failure = o == null
                    ? "no answer within " + WAIT_SECONDS + " s"
                    : o instanceof io.grpc.StatusRuntimeException e
                            ? e.getStatus().toString()
                            : o.toString();
            return null;
        }

        private void send(ProcessingRequest.Builder message) {
            if (first) {
                // The body modes the gateways meshguard's xDS controller configures (EnvoyListener.extProc).
                message.setProtocolConfig(ProtocolConfiguration.newBuilder()
                        .setRequestBodyMode(BodySendMode.FULL_DUPLEX_STREAMED)
                        .setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED));
                first = false;
            }
            requests.onNext(message.build());
        }

        @Override
        public void close() {
            requests.onCompleted();
        }
    }
}
