package io.meshguard.cli.policy;

/** One test case's outcome, as {@code meshguard policy test} prints it. */
public record PolicyTestResult(String kind, String file, String name, boolean passed, String message) {}
