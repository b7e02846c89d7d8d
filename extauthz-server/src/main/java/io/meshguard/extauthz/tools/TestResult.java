package io.meshguard.extauthz.tools;

/** One policy test case's outcome; {@code message} says what differed when it failed. */
public record TestResult(String file, String name, boolean passed, String message) {}
