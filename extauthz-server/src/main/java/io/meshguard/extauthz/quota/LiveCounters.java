package io.meshguard.extauthz.quota;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.meshguard.extauthz.redis.RedisConnection;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The live, cross-replica quota counters in Redis: one atomic script per Check charges every quota of the request
 * at once. A missing counter (first use in a period, a FLUSHALL, a restarted Redis) is reported back so the caller
 * can seed it from PostgreSQL; a request a {@code block} quota refuses is counted nowhere.
 *
 * <p>Keys: {@code <redis.key_prefix>quota:<quota>:<period start>:<caller>}. Quota names have no colon and the
 * period start is a fixed-width date, so the caller part (last) cannot make two keys collide. Each key expires an
 * hour after its period ends, as a time-to-live measured on the replica's clock: an absolute expiry would be read on
 * Redis's clock, and a replica whose clock is behind Redis's would write keys that are gone at once (every Check would
 * then reseed from PostgreSQL and lose the increments not yet written there).
 */
public final class LiveCounters {
    /** How one charge ended. */
    public sealed interface Result {}

    /** Counters missing from Redis (indexes into the request's entries): seed them and charge again. */
    public record NeedsSeed(List<Integer> indexes) implements Result {}

    /** The counts after the charge ({@code counted}) or as they stood when a block quota refused it. */
    public record Counts(boolean counted, long[] values) implements Result {}

    /**
     * One quota of the request.
     *
     * @param limit the caller's limit; negative for unlimited
     * @param block whether exceeding it refuses the request
     * @param expiresIn how long the key may live from now (until an hour after the period)
     * @param seed the durable count to start a missing counter from; negative: do not seed, report it missing
     * @param owed increments counted while Redis was unreachable, added now unless the counter is seeded afresh
     */
    public record Entry(String key, long limit, boolean block, Duration expiresIn, long seed, long owed) {}

    private static final String SCRIPT = """
            local n = #KEYS
            local counts, seeded, missing = {}, {}, {}
            for i = 1, n do
              local b = (i - 1) * 5
              local v = redis.call('GET', KEYS[i])
              if v then
                counts[i] = tonumber(v)
              else
                local seed = tonumber(ARGV[b + 4])
                if seed < 0 then
                  missing[#missing + 1] = i - 1
                else
                  redis.call('SET', KEYS[i], seed, 'PX', ARGV[b + 3])
                  counts[i] = seed
                  seeded[i] = true
                end
              end
            end
            if #missing > 0 then
              local out = {0}
              for _, i in ipairs(missing) do out[#out + 1] = i end
              return out
            end
            -- counted while Redis was away; a counter seeded just now has them already (PostgreSQL + pending)
            for i = 1, n do
              local owed = tonumber(ARGV[(i - 1) * 5 + 5])
              if not seeded[i] and owed > 0 then counts[i] = redis.call('INCRBY', KEYS[i], owed) end
            end
            local status = 1
            for i = 1, n do
              local b = (i - 1) * 5
              local limit = tonumber(ARGV[b + 1])
              if ARGV[b + 2] == '1' and limit >= 0 and counts[i] + 1 > limit then status = 2 end
            end
            local out = {status}
            for i = 1, n do
              if status == 1 then counts[i] = redis.call('INCRBY', KEYS[i], 1) end
              out[#out + 1] = counts[i]
            end
            return out
            """;

    private static final String ADJUST = """
            if redis.call('EXISTS', KEYS[1]) == 1 then return {1, redis.call('INCRBY', KEYS[1], ARGV[1])} end
            return {0}
            """;

    // keeps the key's time-to-live: the counter still expires an hour after its period
    private static final String ZERO = """
            if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
            local ttl = redis.call('PTTL', KEYS[1])
            redis.call('SET', KEYS[1], 0)
            if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
            return {1, 0}
            """;

    private final String prefix;
    private final Duration timeout;
    private final String sha;

    public LiveCounters(String keyPrefix, Duration timeout) {
        this.prefix = keyPrefix;
        this.timeout = timeout;
        this.sha = sha1(SCRIPT);
    }

    /** The Redis key of a counter. */
    public String key(QuotaKey k) {
        return prefix + "quota:" + k.quota() + ":" + k.periodStart() + ":" + k.caller();
    }

    /**
     * Charges one request against all its quotas in one script.
     *
     * @throws LiveCounterException when Redis fails or does not answer within the command timeout
     */
    public Result charge(RedisConnection redis, List<Entry> entries) throws LiveCounterException {
        String[] keys = new String[entries.size()];
        String[] args = new String[entries.size() * 5];
        for (int i = 0; i < entries.size(); i++) {
            Entry e = entries.get(i);
            keys[i] = e.key();
            args[i * 5] = Long.toString(e.limit());
            args[i * 5 + 1] = e.block() ? "1" : "0";
            args[i * 5 + 2] = Long.toString(Math.max(1, e.expiresIn().toMillis()));
            args[i * 5 + 3] = Long.toString(e.seed());
            args[i * 5 + 4] = Long.toString(e.owed());
        }
        List<Object> out = run(redis, SCRIPT, sha, keys, args);
        long status = (Long) out.get(0);
        if (status == 0) {
            return new NeedsSeed(out.subList(1, out.size()).stream()
                    .map(o -> ((Long) o).intValue())
                    .toList());
        }
        long[] values = new long[entries.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = (Long) out.get(i + 1);
        }
        return new Counts(status == 1, values);
    }

    /** Adds {@code delta} to a live counter if Redis has it; empty when it has not (the next Check seeds it). */
    public java.util.OptionalLong adjust(RedisConnection redis, QuotaKey key, long delta) throws LiveCounterException {
        List<Object> out = await(redis.async()
                .<List<Object>>eval(ADJUST, ScriptOutputType.MULTI, new String[] {key(key)}, Long.toString(delta)));
        return (Long) out.get(0) == 1 ? java.util.OptionalLong.of((Long) out.get(1)) : java.util.OptionalLong.empty();
    }

    /** Sets a live counter to zero if Redis has it; empty when it has not (the next Check seeds it). */
    public java.util.OptionalLong zero(RedisConnection redis, QuotaKey key) throws LiveCounterException {
        List<Object> out =
                await(redis.async().<List<Object>>eval(ZERO, ScriptOutputType.MULTI, new String[] {key(key)}));
        return (Long) out.get(0) == 1 ? java.util.OptionalLong.of((Long) out.get(1)) : java.util.OptionalLong.empty();
    }

    /** The live count, if Redis has the counter. */
    public java.util.OptionalLong read(RedisConnection redis, QuotaKey key) throws LiveCounterException {
        String v = await(redis.async().get(key(key)));
        return v == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(Long.parseLong(v));
    }

    private List<Object> run(RedisConnection redis, String script, String digest, String[] keys, String[] args)
            throws LiveCounterException {
        RedisAsyncCommands<String, String> cmd = redis.async();
        try {
            return await(cmd.<List<Object>>evalsha(digest, ScriptOutputType.MULTI, keys, args));
        } catch (LiveCounterException e) {
            if (!(e.getCause() instanceof RedisNoScriptException)) {
                throw e;
            }
            // a restarted or SCRIPT FLUSHed Redis: EVAL loads it again
            return await(cmd.<List<Object>>eval(script, ScriptOutputType.MULTI, keys, args));
        }
    }

    private <T> T await(java.util.concurrent.Future<T> f) throws LiveCounterException {
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LiveCounterException("interrupted", e);
        } catch (ExecutionException e) {
            throw new LiveCounterException("redis: " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            f.cancel(false);
            throw new LiveCounterException("redis did not answer within " + timeout.toMillis() + " ms", e);
        } catch (RuntimeException e) {
            throw new LiveCounterException("redis: " + e.getMessage(), e);
        }
    }

    private static String sha1(String s) {
        try {
            // the script's digest, as EVALSHA names it (not a security use)
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-1").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Redis failed or was too slow for this Check. */
    public static final class LiveCounterException extends Exception {
        public LiveCounterException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
