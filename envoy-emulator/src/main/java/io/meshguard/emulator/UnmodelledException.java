package io.meshguard.emulator;

/** The emulator met config it does not model on the request path: the test fails rather than guess. */
public final class UnmodelledException extends RuntimeException {
    public UnmodelledException(String what) {
        super("not modelled by the Envoy emulator: " + what);
    }
}
