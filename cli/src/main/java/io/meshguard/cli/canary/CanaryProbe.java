package io.meshguard.cli.canary;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.meshguard.access.BearerTokenSource;
import io.meshguard.access.ClientCredentialsTokens;
import io.meshguard.authz.request.Reason;
import io.meshguard.cli.canary.CanaryResult.Outcome;
import io.meshguard.contract.RouteContract;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends each route's canaries through the real path every {@code interval} and counts what happened:
 * {@code meshguard_canary_checks_total{route,kind,result}} ({@code passed}, {@code got_through}, {@code unreachable};
 * every series exists at 0 from start, so {@code increase()} sees the first failure) and
 * {@code meshguard_canary_last_success_timestamp_seconds{route,kind}} (the start time until a canary passes).
 *
 * <p>A canary passes only when meshguard is shown to have decided it. Each request carries a fresh random W3C trace id
 * ({@code traceparent}), which the Check and the DLP record with their audit rows; the pass needs those rows
 * ({@link CanaryEvidence}): for an expired-token canary the Check's deny row with one of its credential reasons, for a
 * card canary the Check's allow row and the DLP's blocked session row, each for the route's host. The answer alone
 * never passes a canary: an application that answers 401 {@code invalid_token} by itself, or one that recognises a
 * canary and answers as meshguard would, wrote no such rows, and its canary got through. The answer can only fail one
 * early (an answer that is not a refusal got through; 404 or 5xx is unreachable).
 *
 * <p>Every canary also carries {@code x-meshguard-canary} (its kind), which the gateway's access log records
 * ({@code details.canary} on its {@code api_call} row), so its audit rows are recognisable. It decides nothing and
 * leaves nothing out of usage or billing: a client could send it too. Canaries that pass are refused requests, which
 * usage and the coverage report do not count as served traffic anyway.
 */
public final class CanaryProbe implements ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(CanaryProbe.class);

    /** The header that marks a canary; its value is the kind. */
    public static final String HEADER = RouteContract.AccessLogTags.CANARY_HEADER;

    /**
     * Luhn-valid, not one of the public test numbers dlp.yaml allows (those are never reported), with the word "card"
     * beside it so the detector's context raises its confidence.
     */
    public static final String CARD = "4539578012345671";

    private final List<CanaryRoute> routes;
    private final CanaryTransport transport;
    private final String expiredToken;
    private final Optional<BearerTokenSource> credential;
    private final int blockStatus;
    private final Duration interval;
    private final CanaryEvidence evidence;
    private final Duration evidenceWait;
    private final Clock clock;
    private final java.security.SecureRandom random = new java.security.SecureRandom();
    private final Map<String, Counter> counters = new HashMap<>();
    private final Map<String, AtomicLong> lastSuccess = new HashMap<>();
    private final Counter cardSignInFailures;
    private final Counter auditSignInFailures;
    private ScheduledExecutorService executor;

    /**
     * @param expiredToken an expired token the Check must refuse; empty: one signed here with a key no issuer has
     * @param credential where a card canary gets the bearer token it presents so that the Check lets it on to the DLP
     *     (asked at each card canary: a signed-in client's token is renewed before it expires); required when a route
     *     lists {@code test_card}
     * @param evidence where the audit rows proving meshguard decided a canary are read
     * @param evidenceWait how long a canary waits for those rows (the servers write audit rows in batches)
     */
    public CanaryProbe(
            List<CanaryRoute> routes,
            CanaryTransport transport,
            Optional<String> expiredToken,
            Optional<BearerTokenSource> credential,
            int blockStatus,
            Duration interval,
            CanaryEvidence evidence,
            Duration evidenceWait,
            Clock clock,
            MeterRegistry meters) {
        this.routes = List.copyOf(routes);
        this.transport = Objects.requireNonNull(transport, "transport");
        this.credential = Objects.requireNonNull(credential, "credential");
        this.blockStatus = blockStatus;
        this.interval = Objects.requireNonNull(interval, "interval");
        this.evidence = Objects.requireNonNull(evidence, "evidence");
        this.evidenceWait = Objects.requireNonNull(evidenceWait, "evidenceWait");
        this.clock = Objects.requireNonNull(clock, "clock");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("the canary interval must be positive");
        }
        if (credential.isEmpty() && routes.stream().anyMatch(r -> r.kinds().contains(CanaryKind.TEST_CARD))) {
            throw new IllegalArgumentException(
                    "test_card canaries need a credential the route admits (canary.client_id with"
                            + " canary.client_secret_file, or canary.credential_file): without it the Check refuses"
                            + " them before the DLP sees the card");
        }
        this.expiredToken = expiredToken.orElseGet(() -> selfSignedExpiredToken(clock.instant()));
        long start = clock.instant().getEpochSecond();
        cardSignInFailures = signInFailures(meters, "card");
        auditSignInFailures = signInFailures(meters, "audit");
        for (CanaryRoute route : this.routes) {
            for (CanaryKind kind : route.kinds()) {
                Tags tags = Tags.of("route", route.name(), "kind", kind.id());
                for (Outcome outcome : Outcome.values()) {
                    counters.put(
                            key(route.name(), kind, outcome),
                            Counter.builder("meshguard.canary.checks")
                                    .description("Canary requests sent through a protected route, by what happened")
                                    .tags(tags.and("result", outcome.id()))
                                    .register(meters));
                }
                // the start time until a canary passes, so a canary that never passes goes stale from start
                AtomicLong last = new AtomicLong(start);
                lastSuccess.put(route.name() + "\n" + kind.id(), last);
                meters.gauge("meshguard.canary.last_success.timestamp.seconds", tags, last, AtomicLong::doubleValue);
            }
        }
    }

    private static Counter signInFailures(MeterRegistry meters, String client) {
        return Counter.builder("meshguard.canary.sign_in.failures")
                .description("Canaries that could not be sent or confirmed because their client could not sign in"
                        + " (card: the credential card canaries present; audit: the audit log's reader)")
                .tag("client", client)
                .register(meters);
    }

    @Override
    public String name() {
        return "canary";
    }

    @Override
    public void start() {
        executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "meshguard-canary");
            t.setDaemon(true);
            return t;
        });
        executor.scheduleWithFixedDelay(this::runSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void runSafely() {
        try {
            runOnce();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.warn("canary run failed: {}", e.toString());
        }
    }

    /**
     * Sends every route's canaries once, counts and logs them, and returns what each found. Not synchronized: a run
     * signs in at the identity provider and calls the routes and the audit API, never under a lock; what runs share is
     * counters and atomics, and the schedule starts one run after the other.
     */
    public List<CanaryResult> runOnce() throws InterruptedException {
        List<CanaryResult> results = new ArrayList<>();
        for (CanaryRoute route : routes) {
            for (CanaryKind kind : route.kinds()) {
                CanaryResult result = probe(route, kind);
                counters.get(key(route.name(), kind, result.outcome())).increment();
                if (result.passed()) {
                    lastSuccess
                            .get(route.name() + "\n" + kind.id())
                            .set(clock.instant().getEpochSecond());
                } else {
                    log.error(
                            "canary {} on route {} {}: {}",
                            kind.id(),
                            route.name(),
                            result.outcome() == Outcome.GOT_THROUGH ? "GOT THROUGH" : "could not reach the route",
                            result.detail());
                }
                results.add(result);
            }
        }
        return results;
    }

    CanaryResult probe(CanaryRoute route, CanaryKind kind) throws InterruptedException {
        String traceId = hex(16);
        CanaryTransport.Request request;
        try {
            request = request(route, kind, traceId);
        } catch (IOException e) {
            cardSignInFailures.increment();
            return new CanaryResult(
                    route.name(),
                    kind,
                    Outcome.UNREACHABLE,
                    "cannot sign in for the canary's credential: " + e.getMessage());
        }
        Instant sent = clock.instant();
        CanaryTransport.Answer answer;
        try {
            answer = transport.send(request);
        } catch (IOException e) {
            return new CanaryResult(route.name(), kind, Outcome.UNREACHABLE, e.toString());
        }
        Optional<CanaryResult> failed = failedByTheAnswer(route.name(), kind, answer);
        if (failed.isPresent()) {
            return failed.get();
        }
        return confirm(route, kind, traceId, sent, seen(answer));
    }

    /**
     * The audit rows meshguard wrote for this canary, read until they prove it decided or {@code evidenceWait} is
     * over: proven, a pass; not, the canary got through whatever it was answered.
     */
    private CanaryResult confirm(CanaryRoute route, CanaryKind kind, String traceId, Instant sent, String seen)
            throws InterruptedException {
        // rows are stamped by the servers' clocks: look a minute back so a skewed clock does not hide them
        Instant since = sent.minus(Duration.ofMinutes(1));
        long deadline = System.nanoTime() + evidenceWait.toNanos();
        String missing;
        while (true) {
            List<CanaryEvidence.Row> rows;
            try {
                rows = evidence.rows(traceId, since);
            } catch (ClientCredentialsTokens.SignInFailed e) {
                auditSignInFailures.increment();
                return new CanaryResult(
                        route.name(),
                        kind,
                        Outcome.UNREACHABLE,
                        "cannot sign in to read the audit log for canary trace " + traceId + " (" + e.getMessage()
                                + "); " + seen);
            } catch (IOException e) {
                return new CanaryResult(
                        route.name(),
                        kind,
                        Outcome.UNREACHABLE,
                        "cannot read the audit log to confirm canary trace " + traceId + " (" + e.getMessage() + "); "
                                + seen);
            }
            Optional<String> gap = missingProof(kind, route.url().getHost(), rows);
            if (gap.isEmpty()) {
                return new CanaryResult(
                        route.name(),
                        kind,
                        Outcome.PASSED,
                        seen + " (confirmed in the audit log: trace " + traceId + ")");
            }
            missing = gap.get();
            if (System.nanoTime() >= deadline) {
                break;
            }
            Thread.sleep(Math.min(500, Math.max(1, evidenceWait.toMillis())));
        }
        return new CanaryResult(
                route.name(),
                kind,
                Outcome.GOT_THROUGH,
                seen + ", but meshguard did not decide it: the audit log has " + missing + " for canary trace "
                        + traceId + " after " + evidenceWait.toSeconds() + "s");
    }

    /** What the rows lack to prove meshguard decided this canary on {@code host}, or empty when they prove it. */
    static Optional<String> missingProof(CanaryKind kind, String host, List<CanaryEvidence.Row> rows) {
        List<CanaryEvidence.Row> checks = rows.stream()
                .filter(r -> r.kind().equals("authz_decision") && sameHost(r.authority(), host))
                .toList();
        return switch (kind) {
            case EXPIRED_TOKEN ->
                checks.stream()
                                .anyMatch(r -> r.decision().equals("deny")
                                        && CREDENTIAL_REFUSALS.stream()
                                                .anyMatch(c -> c.code().equals(r.reason())))
                        ? Optional.empty()
                        : Optional.of("no Check denying its token for " + host);
            case TEST_CARD -> {
                if (checks.stream().noneMatch(r -> r.decision().equals("allow"))) {
                    yield Optional.of("no Check admitting its credential for " + host);
                }
                boolean blocked = rows.stream()
                        .anyMatch(r -> r.kind().equals("api_call")
                                && r.source().equals("extproc-dlp")
                                && r.decision().equals("blocked")
                                && sameHost(r.authority(), host));
                yield blocked ? Optional.empty() : Optional.of("no DLP session blocking its card for " + host);
            }
        };
    }

    private static boolean sameHost(String authority, String host) {
        String a = authority.toLowerCase(java.util.Locale.ROOT);
        int colon = a.lastIndexOf(':');
        if (colon > 0 && !a.endsWith("]") && a.indexOf(':') == colon) {
            a = a.substring(0, colon);
        }
        return a.equals(host.toLowerCase(java.util.Locale.ROOT));
    }

    CanaryTransport.Request request(CanaryRoute route, CanaryKind kind, String traceId) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>(route.headers());
        headers.put(HEADER, kind.id());
        // the canary's own trace: the Check and the DLP record its id with their rows, where the pass is looked up
        headers.put("traceparent", "00-" + traceId + "-" + hex(8) + "-01");
        return switch (kind) {
            case EXPIRED_TOKEN -> {
                headers.put("authorization", "Bearer " + expiredToken);
                yield new CanaryTransport.Request(route.method(), route.url(), headers, "");
            }
            case TEST_CARD -> {
                headers.put(
                        "authorization", "Bearer " + credential.orElseThrow().current());
                headers.put("content-type", "application/json");
                yield new CanaryTransport.Request(
                        "POST",
                        route.url(),
                        headers,
                        "{\"meshguard_canary\":\"test_card\",\"note\":\"card number " + CARD + "\"}");
            }
        };
    }

    private String hex(int bytes) {
        byte[] b = new byte[bytes];
        random.nextBytes(b);
        return java.util.HexFormat.of().formatHex(b);
    }

    private static String seen(CanaryTransport.Answer answer) {
        String body = answer.body();
        return "HTTP " + answer.status() + " " + (body.length() > 200 ? body.substring(0, 200) + "…" : body);
    }

    /**
     * The result the answer alone decides, a failure only: empty when it is the refusal meshguard gives (to be
     * confirmed in the audit log, never a pass by itself).
     */
    Optional<CanaryResult> failedByTheAnswer(String route, CanaryKind kind, CanaryTransport.Answer answer) {
        int status = answer.status();
        String body = answer.body();
        String seen = seen(answer);
        if (status == 404 || status >= 500) {
            return Optional.of(new CanaryResult(route, kind, Outcome.UNREACHABLE, seen));
        }
        return switch (kind) {
            case EXPIRED_TOKEN ->
                status == 401 && namesACredentialRefusal(body)
                        ? Optional.empty()
                        : Optional.of(new CanaryResult(route, kind, Outcome.GOT_THROUGH, seen));
            case TEST_CARD -> {
                if (status == blockStatus && body.contains("dlp_blocked") && !body.contains(CARD)) {
                    yield Optional.empty();
                }
                if (status == 401) {
                    // the canary's own credential was refused: the DLP never saw the card, so nothing is proven
                    yield Optional.of(
                            new CanaryResult(route, kind, Outcome.UNREACHABLE, "canary credential refused: " + seen));
                }
                yield Optional.of(new CanaryResult(route, kind, Outcome.GOT_THROUGH, seen));
            }
        };
    }

    // the Check's reasons for refusing a credential that was presented (its 401s, less "none was sent")
    private static final Set<Reason> CREDENTIAL_REFUSALS = EnumSet.copyOf(Arrays.stream(Reason.values())
            .filter(r -> r.status() == 401 && r != Reason.MISSING_CREDENTIAL)
            .toList());

    private static boolean namesACredentialRefusal(String body) {
        return CREDENTIAL_REFUSALS.stream().anyMatch(r -> body.contains("\"" + r.code() + "\""));
    }

    private static String key(String route, CanaryKind kind, Outcome outcome) {
        return route + "\n" + kind.id() + "\n" + outcome.id();
    }

    /** An RS256 token that expired an hour ago, signed with a key made here and thrown away: no issuer has it. */
    static String selfSignedExpiredToken(Instant now) {
        try {
            RSAKey key = new RSAKeyGenerator(2048).keyID("meshguard-canary").generate();
            SignedJWT jwt = new SignedJWT(
                    new JWSHeader.Builder(JWSAlgorithm.RS256)
                            .keyID(key.getKeyID())
                            .build(),
                    new JWTClaimsSet.Builder()
                            .issuer("meshguard-canary")
                            .subject("meshguard-canary")
                            .issueTime(Date.from(now.minus(Duration.ofHours(2))))
                            .expirationTime(Date.from(now.minus(Duration.ofHours(1))))
                            .build());
            jwt.sign(new RSASSASigner(key));
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new IllegalStateException("cannot sign the canary's expired token", e);
        }
    }

    @Override
    public void close() {
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
