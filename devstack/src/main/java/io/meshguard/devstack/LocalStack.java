package io.meshguard.devstack;

import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.StackPart;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.util.List;
import java.util.function.Consumer;

/**
 * The servers of {@code meshguard up} ({@link StackParts}) started in order into a {@link ComponentStack}, which closes
 * them in reverse order. {@code up} and the end-to-end tests run this same wiring, so the tests prove the stack a user
 * starts.
 */
public final class LocalStack {
    private final List<StackPart> parts;

    private LocalStack(List<StackPart> parts) {
        this.parts = parts;
    }

    /**
     * Builds and starts every part.
     *
     * @param onStarted told of each component once it has started (e.g. to add its readiness checks)
     */
    public static LocalStack start(ComponentStack stack, StackContext context, Consumer<ServerComponent> onStarted)
            throws Exception {
        List<StackPart> parts = StackParts.all();
        // extauthz starts before the controller and must know its ADS address to follow the subscription state:
        // "any free port" is picked here, once, for both
        StackContext resolved = context.ports().ads() != 0
                ? context
                : context.withPorts(context.ports().withAds(freeLoopbackPort()));
        for (StackPart part : parts) {
            for (ServerComponent component : part.components(resolved)) {
                stack.start(component);
                onStarted.accept(component);
            }
        }
        LocalStack local = new LocalStack(parts);
        local.awaitSubscriptionState(java.time.Duration.ofSeconds(30));
        return local;
    }

    /**
     * extauthz follows the controller, which starts after it, and is not ready before its first subscription state
     * (docs/products.md): the stack is up once that state arrived, or after {@code limit} (its /readyz then says why).
     */
    private void awaitSubscriptionState(java.time.Duration limit) throws InterruptedException {
        io.meshguard.extauthz.server.ExtAuthzServer extauthz =
                part(io.meshguard.devstack.authz.ExtAuthzStackPart.class).server();
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline
                && extauthz.notReady().stream().anyMatch(p -> p.startsWith("subscriptions:"))) {
            Thread.sleep(20);
        }
    }

    private static int freeLoopbackPort() throws java.io.IOException {
        try (java.net.ServerSocket socket =
                new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** The started parts, in start order. */
    public List<StackPart> parts() {
        return parts;
    }

    /** The started part of that type. */
    public <T extends StackPart> T part(Class<T> type) {
        return parts.stream()
                .filter(type::isInstance)
                .map(type::cast)
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no " + type.getSimpleName() + " in the stack"));
    }
}
