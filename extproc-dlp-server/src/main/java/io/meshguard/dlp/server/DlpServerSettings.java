package io.meshguard.dlp.server;

import java.nio.file.Path;
import java.time.Duration;

/**
 * What the DLP server needs to run.
 *
 * @param grpcPort ext_proc gRPC port (default 9002; 0 = any free port)
 * @param httpPort status port for /metrics, /healthz, /readyz (default 9102; 0 = any; -1 = none)
 * @param bindAddress address both listeners bind to
 * @param policyFile the dlp.yaml to enforce (hot-reloaded)
 * @param hashKey master key for keyed hashes (HASH action and audit HMACs); empty = random per process
 * @param maxMessageBytes largest gRPC message accepted (one body chunk, or a whole BUFFERED body)
 * @param reloadInterval how often the policy file is checked for changes
 */
public record DlpServerSettings(int grpcPort, int httpPort, String bindAddress, Path policyFile, byte[] hashKey,
        int maxMessageBytes, Duration reloadInterval) {
    public static final int DEFAULT_GRPC_PORT = 9002;
    public static final int DEFAULT_HTTP_PORT = 9102;
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    public static DlpServerSettings defaults(Path policyFile) {
        return new DlpServerSettings(DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, "0.0.0.0", policyFile, new byte[0],
                DEFAULT_MAX_MESSAGE_BYTES, Duration.ofSeconds(2));
    }

    public DlpServerSettings withPorts(int grpc, int http) {
        return new DlpServerSettings(grpc, http, bindAddress, policyFile, hashKey, maxMessageBytes, reloadInterval);
    }
}
