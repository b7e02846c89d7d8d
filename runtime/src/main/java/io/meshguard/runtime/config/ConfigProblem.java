package io.meshguard.runtime.config;

/**
 * One thing wrong with a configuration.
 *
 * @param location {@code server.yaml:12}, {@code env MESHGUARD_GRPC_PORT}, or the file path when the file
 *     itself is the problem
 * @param message what is wrong, naming the key
 */
public record ConfigProblem(String location, String message) {
    @Override
    public String toString() {
        return location + ": " + message;
    }
}
