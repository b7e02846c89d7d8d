package io.meshguard.extauthz.ratelimit;

/**
 * The store side of the limiter: Lua run atomically inside Redis (one script per decision, so nothing interleaves
 * between reading and writing the limits). Time is the store's ({@code TIME}), never a replica's, so replicas with
 * skewed clocks agree. Integer microseconds throughout (Lua numbers are doubles: exact below 2^53, and
 * epoch-microseconds are about 2^51).
 */
final class GcraScript {
    private GcraScript() {}

    /**
     * KEYS: one per limit. ARGV: per limit its emission interval and bucket capacity (µs). All or nothing: when one
     * limit refuses, no key is written (a refused request is not counted). Each written key expires when its bucket
     * would be full again (PX, milliseconds), so idle callers leave nothing behind. Returns
     * {@code {allowed, now, retry_after, remaining_1, reset_1, ..., remaining_n, reset_n}}: remaining is what still
     * fits after an admitted request, or what fits now when refused.
     */
    static final String ACQUIRE = """
            if redis.replicate_commands then redis.replicate_commands() end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local n = #KEYS
            local out = {1, now, 0}
            local tats = {}
            for i = 1, n do
              local emission = tonumber(ARGV[2 * i - 1])
              local capacity = tonumber(ARGV[2 * i])
              local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
              local base = math.max(tat, now)
              local ahead = base + emission - now
              out[2 + 2 * i] = math.max(0, math.floor((capacity - (base - now)) / emission))
              out[3 + 2 * i] = base - now
              tats[i] = base + emission
              if ahead > capacity then
                out[1] = 0
                if ahead - capacity > out[3] then out[3] = ahead - capacity end
              end
            end
            if out[1] == 1 then
              for i = 1, n do
                out[2 + 2 * i] = out[2 + 2 * i] - 1
                out[3 + 2 * i] = tats[i] - now
                redis.call('SET', KEYS[i], string.format('%d', tats[i]), 'PX', math.floor(out[3 + 2 * i] / 1000) + 1)
              end
            end
            return out
            """;

    /**
     * Reconciliation after an outage. KEYS: limits; ARGV: per limit the debt and the capacity (µs). Each TAT moves
     * forward by the debt the replica ran up while it enforced its share locally, at most to a full bucket.
     */
    static final String CHARGE = """
            if redis.replicate_commands then redis.replicate_commands() end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            for i = 1, #KEYS do
              local debt = tonumber(ARGV[2 * i - 1])
              local capacity = tonumber(ARGV[2 * i])
              local tat = math.max(tonumber(redis.call('GET', KEYS[i]) or '0') or 0, now)
              local charged = math.min(tat + debt, now + capacity)
              redis.call('SET', KEYS[i], string.format('%d', charged), 'PX', math.floor((charged - now) / 1000) + 1)
            end
            return {#KEYS, now}
            """;

    /**
     * A request admitted and then not made (its Check was cancelled before the answer was sent). KEYS: limits; ARGV:
     * per limit its emission interval (µs). Each TAT moves back by one interval, never behind now; a key already gone
     * (the bucket full again) stays gone.
     */
    static final String GIVE_BACK = """
            if redis.replicate_commands then redis.replicate_commands() end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            for i = 1, #KEYS do
              local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
              local back = math.max(now, tat - tonumber(ARGV[i]))
              if back > now then
                redis.call('SET', KEYS[i], string.format('%d', back), 'PX', math.floor((back - now) / 1000) + 1)
              else
                redis.call('DEL', KEYS[i])
              end
            end
            return {#KEYS, now}
            """;

    /**
     * The replica heartbeat. KEYS[1]: the sorted set of replicas; ARGV: this replica's id and how old (µs) a heartbeat
     * may be before its replica counts as gone. Scores are store time. Returns {@code {live replicas, now}}.
     */
    static final String HEARTBEAT = """
            if redis.replicate_commands then redis.replicate_commands() end
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local stale = tonumber(ARGV[2])
            redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1])
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%d', now - stale))
            redis.call('PEXPIRE', KEYS[1], math.floor(stale / 1000) * 2 + 1)
            return {redis.call('ZCARD', KEYS[1]), now}
            """;
}
