package io.meshguard.extauthz.exchange;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ExchangedTokensTest {
    static final Instant T0 = Instant.parse("2026-11-29T08:00:00Z");

    /** A clock the test moves. */
    static final class MovingClock extends Clock {
        final AtomicReference<Instant> now = new AtomicReference<>(T0);

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now.get();
        }

        void advance(Duration d) {
            now.updateAndGet(t -> t.plus(d));
        }
    }

    static IssuedToken issued(String token, Instant reusableUntil) {
        return new IssuedToken(
                token,
                reusableUntil.plusSeconds(30),
                "https://mcp.bank.test/mcp",
                "alice",
                Optional.empty(),
                Optional.empty(),
                reusableUntil);
    }

    final MovingClock clock = new MovingClock();
    final AtomicInteger exchanges = new AtomicInteger();

    CompletableFuture<IssuedToken> exchange(ExchangedTokens.Key key) {
        int n = exchanges.incrementAndGet();
        return CompletableFuture.completedFuture(issued("x-" + n + "-" + key.audience(), T0.plusSeconds(270)));
    }

    @Test
    void get_sameCallerAndAudience_reusesTheExchangeUntilItsReuseTime_thenExchangesAgain() {
        ExchangedTokens cache = new ExchangedTokens(100, clock);
        ExchangedTokens.Key key = ExchangedTokens.Key.of("inbound-a", "https://mcp.bank.test/mcp", Optional.empty());

        ExchangedTokens.Lookup first = cache.get(key, this::exchange);
        first.token().join();
        ExchangedTokens.Lookup second = cache.get(key, this::exchange);
        assertThat(first.cached()).isFalse();
        assertThat(second.cached()).isTrue();
        assertThat(second.token().join().token()).isEqualTo(first.token().join().token());
        assertThat(exchanges).hasValue(1);

        clock.advance(Duration.ofSeconds(269));
        assertThat(cache.get(key, this::exchange).cached()).isTrue();
        clock.advance(Duration.ofSeconds(1));
        ExchangedTokens.Lookup renewed = cache.get(key, this::exchange);
        assertThat(renewed.cached()).isFalse();
        renewed.token().join();
        assertThat(exchanges).hasValue(2);
    }

    @Test
    void get_otherAudienceOrOtherCallerOrOtherScope_neverServedAnotherKeysToken() {
        ExchangedTokens cache = new ExchangedTokens(100, clock);
        String a = cache.get(ExchangedTokens.Key.of("inbound-a", "aud-1", Optional.empty()), this::exchange)
                .token()
                .join()
                .token();
        String otherAudience = cache.get(ExchangedTokens.Key.of("inbound-a", "aud-2", Optional.empty()), this::exchange)
                .token()
                .join()
                .token();
        String otherCaller = cache.get(ExchangedTokens.Key.of("inbound-b", "aud-1", Optional.empty()), this::exchange)
                .token()
                .join()
                .token();
        String otherScope = cache.get(ExchangedTokens.Key.of("inbound-a", "aud-1", Optional.of("read")), this::exchange)
                .token()
                .join()
                .token();
        assertThat(List.of(a, otherAudience, otherCaller, otherScope)).doesNotHaveDuplicates();
        assertThat(exchanges).hasValue(4);
    }

    @Test
    void key_holdsTheSha256OfTheCallersToken_neverTheToken() {
        ExchangedTokens.Key key = ExchangedTokens.Key.of("eyJ.secret.token", "aud", Optional.empty());
        assertThat(key.toString()).doesNotContain("eyJ.secret.token");
        assertThat(key.tokenSha256()).hasSize(64).matches("[0-9a-f]+");
    }

    @Test
    void get_concurrentMissesOfOneKey_makeOneExchange_andAllGetItsToken() throws Exception {
        ExchangedTokens cache = new ExchangedTokens(100, clock);
        ExchangedTokens.Key key = ExchangedTokens.Key.of("inbound-a", "aud", Optional.empty());
        CompletableFuture<IssuedToken> pending = new CompletableFuture<>();
        AtomicInteger calls = new AtomicInteger();
        int threads = 16;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<CompletableFuture<IssuedToken>>> got = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                got.add(pool.submit(() -> {
                    start.await();
                    return cache.get(key, k -> {
                                calls.incrementAndGet();
                                return pending;
                            })
                            .token();
                }));
            }
            start.countDown();
            List<CompletableFuture<IssuedToken>> futures = new ArrayList<>();
            for (Future<CompletableFuture<IssuedToken>> f : got) {
                futures.add(f.get(10, TimeUnit.SECONDS));
            }
            // every caller is waiting on the one exchange, made outside any lock
            assertThat(futures).allSatisfy(f -> assertThat(f).isNotDone());
            pending.complete(issued("only-one", T0.plusSeconds(100)));
            assertThat(futures).allSatisfy(f -> assertThat(f.join().token()).isEqualTo("only-one"));
            assertThat(calls).hasValue(1);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void get_failedExchange_isNotKept_theNextRequestAsksAgain() {
        ExchangedTokens cache = new ExchangedTokens(100, clock);
        ExchangedTokens.Key key = ExchangedTokens.Key.of("inbound-a", "aud", Optional.empty());
        CompletableFuture<IssuedToken> failed = cache.get(
                        key,
                        k -> CompletableFuture.failedFuture(
                                new ExchangeFailure(ExchangeFailure.Kind.UNREACHABLE, "down")))
                .token();
        assertThat(failed).failsWithin(Duration.ofSeconds(10));
        ExchangedTokens.Lookup next = cache.get(key, this::exchange);
        assertThat(next.cached()).isFalse();
        assertThat(next.token().join().token()).startsWith("x-1-");
    }

    @Test
    void get_tokenWhoseReuseTimeHasPassedAtIssue_isUsedOnceButNeverReused() {
        ExchangedTokens cache = new ExchangedTokens(100, clock);
        ExchangedTokens.Key key = ExchangedTokens.Key.of("inbound-a", "aud", Optional.empty());
        cache.get(key, k -> CompletableFuture.completedFuture(issued("short", T0)))
                .token()
                .join();
        ExchangedTokens.Lookup again = cache.get(key, this::exchange);
        assertThat(again.cached()).isFalse();
        again.token().join();
        assertThat(exchanges).hasValue(1);
    }

    @Test
    void cache_isBounded() {
        ExchangedTokens cache = new ExchangedTokens(5, clock);
        for (int i = 0; i < 200; i++) {
            cache.get(ExchangedTokens.Key.of("inbound-" + i, "aud", Optional.empty()), this::exchange)
                    .token()
                    .join();
        }
        // an exchange still in flight weighs nothing (Caffeine's async weight): the bound holds the issued tokens
        cache.cleanUp();
        assertThat(cache.size()).isLessThanOrEqualTo(5);
    }

    @Test
    void cacheOff_everyRequestExchanges() {
        ExchangedTokens cache = new ExchangedTokens(0, clock);
        ExchangedTokens.Key key = ExchangedTokens.Key.of("inbound-a", "aud", Optional.empty());
        cache.get(key, this::exchange);
        assertThat(cache.get(key, this::exchange).cached()).isFalse();
        assertThat(exchanges).hasValue(2);
    }
}
