package io.meshguard.cli.canary;

import java.io.IOException;
import java.net.URI;
import java.util.Map;

/** Sends one canary request along the real path and returns what the client got. */
@FunctionalInterface
public interface CanaryTransport {

    /** A canary request; {@code body} is empty for a GET. */
    record Request(String method, URI url, Map<String, String> headers, String body) {
        public Request {
            headers = Map.copyOf(headers);
        }
    }

    /** What came back. */
    record Answer(int status, String body) {}

    /** @throws IOException when the path is unreachable (refused, reset, timed out) */
    Answer send(Request request) throws IOException, InterruptedException;
}
