package io.meshguard.access;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What an admin operation answered when another surface (the console) ran it in-process: its HTTP status and JSON body
 * ({@code {"error": …}} from 400 on), exactly as the HTTP surface would have answered.
 */
public record AdminAnswer(int status, JsonNode body) {
    public boolean ok() {
        return status < 400;
    }

    /** The error text of a refusal; empty for a success. */
    public String error() {
        return ok() ? "" : body.path("error").asText();
    }
}
