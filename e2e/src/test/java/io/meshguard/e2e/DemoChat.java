package io.meshguard.e2e;

import io.meshguard.devstack.demo.DemoGateway;
import io.meshguard.emulator.DownstreamRequest;

/** Requests to the demo gateway's LLM route, as a chat client sends them. */
final class DemoChat {
    private DemoChat() {}

    /** A JSON chat completion request with {@code json} as its body. */
    static DownstreamRequest completion(String json) {
        return DownstreamRequest.withBody(
                "POST", DemoGateway.HOST, "/demo/chat/completions", json, "content-type", "application/json");
    }
}
