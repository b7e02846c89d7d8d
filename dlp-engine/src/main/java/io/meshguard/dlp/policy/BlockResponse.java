package io.meshguard.dlp.policy;

/** The HTTP answer a block gives before a response has started: an explicit 4xx and a JSON body. */
public record BlockResponse(int status, String message) {
    public static final BlockResponse DEFAULT =
            new BlockResponse(403, "The message contains data that policy does not allow to pass.");
}
