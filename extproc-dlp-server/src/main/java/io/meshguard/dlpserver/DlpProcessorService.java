package io.meshguard.dlpserver;

import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.dlp.content.Transformers;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.runtime.tracing.Tracing;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@code envoy.service.ext_proc.v3.ExternalProcessor/Process}: one {@link ProcessingSession} per stream, each with the
 * policy that was current when the stream opened (a reload never changes a stream mid-way).
 */
public final class DlpProcessorService extends ExternalProcessorGrpc.ExternalProcessorImplBase {
    private final Supplier<DlpPolicy> policy;
    private final byte[] masterKey;
    private final DlpMetrics metrics;
    private final DlpAuditSink audit;
    private final DecoderBudget decoders;
    private final Set<ProcessingSession> open = ConcurrentHashMap.newKeySet();
    private final Transformers.Factory transformers;
    private final StreamDeadlines deadlines;
    private final Tracing tracing;
    /** Set once before the server starts ({@link DlpServer#toolApprovals}); without it held tools never run. */
    private volatile ToolApprovalGate approvals;

    DlpProcessorService(
            Supplier<DlpPolicy> policy,
            byte[] masterKey,
            DlpMetrics metrics,
            DlpAuditSink audit,
            DecoderBudget decoders,
            PhaseDeadlines deadlines,
            Transformers.Factory transformers,
            Tracing tracing) {
        this.tracing = tracing;
        this.policy = policy;
        this.transformers = transformers;
        this.deadlines = new StreamDeadlines(deadlines, open);
        metrics.oldestStream(this.deadlines::oldestSeconds);
        this.decoders = decoders;
        this.masterKey = masterKey.clone();
        this.metrics = metrics;
        this.audit = audit;
        this.approvals = ToolApprovalGate.none(metrics.registry());
    }

    void toolApprovals(ToolApprovalGate gate) {
        ToolApprovalGate before = approvals;
        this.approvals = gate;
        before.close();
    }

    /** Stops the gate's lookups (with the server). */
    void closeToolApprovals() {
        approvals.close();
    }

    @Override
    public StreamObserver<ProcessingRequest> process(StreamObserver<ProcessingResponse> responses) {
        DlpPolicy inForce = policy.get();
        if (inForce == null) {
            // no dlp.yaml in force (none approved yet): fail closed, Envoy answers the request itself (no body passes)
            responses.onError(io.grpc.Status.UNAVAILABLE
                    .withDescription("no DLP policy in force: dlp.yaml is not approved (dlp.require_approval)")
                    .asRuntimeException());
            return new StreamObserver<>() {
                @Override
                public void onNext(ProcessingRequest value) {}

                @Override
                public void onError(Throwable t) {}

                @Override
                public void onCompleted() {}
            };
        }
        ProcessingSession[] self = new ProcessingSession[1];
        self[0] = new ProcessingSession(
                inForce,
                RouteHint.current(),
                masterKey,
                responses,
                metrics,
                audit,
                decoders,
                transformers,
                () -> open.remove(self[0]),
                StreamSpan.open(tracing),
                approvals);
        open.add(self[0]);
        return self[0];
    }

    /** The watch that ends streams over their deadlines (started and closed with the server). */
    StreamDeadlines deadlines() {
        return deadlines;
    }

    /** Streams whose state is still held (tests check that cancelled streams leave nothing behind). */
    public int openStreams() {
        return open.size();
    }
}
