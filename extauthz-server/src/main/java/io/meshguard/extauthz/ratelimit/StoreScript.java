package io.meshguard.extauthz.ratelimit;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A Lua script run by its SHA-1 ({@code EVALSHA}); when the store answers {@code NOSCRIPT} (it restarted or its script
 * cache was flushed) the same call is sent once with the source ({@code EVAL}), which also caches it again.
 */
final class StoreScript {
    private final String source;
    private volatile String sha;

    StoreScript(String source) {
        this.source = source;
    }

    CompletableFuture<List<Object>> run(RedisAsyncCommands<String, String> commands, String[] keys, String... args) {
        String digest = sha;
        if (digest == null) {
            digest = commands.digest(source);
            sha = digest;
        }
        CompletableFuture<List<Object>> first = commands.<List<Object>>evalsha(
                        digest, ScriptOutputType.MULTI, keys, args)
                .toCompletableFuture();
        return first.exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            if (cause instanceof RedisNoScriptException) {
                return commands.<List<Object>>eval(source, ScriptOutputType.MULTI, keys, args)
                        .toCompletableFuture();
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    String source() {
        return source;
    }
}
