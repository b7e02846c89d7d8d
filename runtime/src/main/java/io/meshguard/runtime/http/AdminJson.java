package io.meshguard.runtime.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The one kind of refusal of the JSON admin APIs (the controller's config, audit, catalogue and zone APIs, extauthz's
 * {@code /quotas} and {@code /apikeys}) and of the services behind them: it carries the HTTP status to answer and
 * becomes {@code {"error": …}} (plus what a subclass adds, such as a publish's problems).
 */
public final class AdminJson {
    /** A request refused with {@code status} and a message for the caller. */
    public static class Refusal extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;

        public Refusal(int status, String message) {
            super(message);
            this.status = status;
        }

        public Refusal(ErrorKind kind, String message) {
            this(kind.status(), message);
        }

        public int status() {
            return status;
        }

        /** The answer's body: {@code {"error": message}}; a subclass adds what the caller needs besides. */
        public ObjectNode body() {
            return error(getMessage());
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private AdminJson() {}

    /** The body of a refusal: {@code {"error": message}}. */
    public static ObjectNode error(String message) {
        return JSON.createObjectNode().put("error", message);
    }
}
