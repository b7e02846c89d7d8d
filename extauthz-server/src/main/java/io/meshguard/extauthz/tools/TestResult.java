package io.meshguard.extauthz.tools;

/**
 * One policy test case's outcome; {@code message} says what differed when it failed, and on a pass lists the headers
 * the case checked with the {@code append_action} Envoy gets for each (empty when it checked none).
 */
public record TestResult(String file, String name, boolean passed, String message) {}
