package io.meshguard.extauthz.tools;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import com.nimbusds.jose.jwk.JWKSet;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@code meshguard authz check}: one CheckRequest (Envoy's protobuf JSON) through the server's pipeline, printed as
 * {@code {"allowed","status","reason","headers_set","headers_append_action","headers_removed","body"}}
 * ({@code headers_append_action}: Envoy's {@code append_action} per header set, e.g. {@code OVERWRITE_IF_EXISTS_OR_ADD}).
 */
public final class AuthzCheck {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AuthzCheck() {}

    /** Thrown for unusable input: a missing file, bad JSON, an unknown issuer name. The message says which. */
    public static final class InputException extends Exception {
        private static final long serialVersionUID = 1L;

        public InputException(String message) {
            super(message);
        }
    }

    /**
     * @param jwksFiles issuer name to a local JWKS file replacing that issuer's remote key set
     * @param now the decision time (token expiry checks), default the system clock
     */
    public static Decision decide(
            Path policyDir, Path request, Map<String, Path> jwksFiles, Optional<java.time.Instant> now)
            throws InputException, PolicyInvalidException {
        AuthzPolicy policy = new AuthzPolicyParser().parse(policyDir.resolve("authz.yaml"));
        Map<String, JWKSet> local = new HashMap<>();
        for (Map.Entry<String, Path> e : jwksFiles.entrySet()) {
            if (policy.issuerNamed(e.getKey()).isEmpty()) {
                throw new InputException("--jwks " + e.getKey() + ": no issuer of that name in authz.yaml (issuers: "
                        + policy.issuers().stream().map(i -> i.name()).toList() + ")");
            }
            try {
                local.put(e.getKey(), JWKSet.load(e.getValue().toFile()));
            } catch (IOException | java.text.ParseException ex) {
                throw new InputException(
                        "--jwks " + e.getKey() + "=" + e.getValue() + ": not a readable JWKS: " + ex.getMessage());
            }
        }
        CheckRequest.Builder builder = CheckRequest.newBuilder();
        String text;
        try {
            text = Files.readString(request, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InputException("--request " + request + ": cannot read: " + e.getMessage());
        }
        try {
            JsonFormat.parser().merge(text, builder);
        } catch (InvalidProtocolBufferException e) {
            throw new InputException(
                    "--request " + request + ": not a CheckRequest in protobuf JSON: " + e.getMessage());
        }
        Clock clock = now.map(n -> Clock.fixed(n, ZoneOffset.UTC)).orElse(Clock.systemUTC());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (AuthzPipeline pipeline = new AuthzPipeline(
                new JwksRegistry(registry, local, Duration.ofSeconds(3)),
                Optional.empty(),
                new TokenBucketLimiter(16, Duration.ofMinutes(1), System::nanoTime),
                new SecretFiles(System::nanoTime),
                clock,
                registry,
                16,
                Duration.ofMinutes(1))) {
            pipeline.use(policy);
            return pipeline.decide(HttpRequestView.of(builder.build()));
        }
    }

    /** The decision as the CLI prints it. */
    public static String toJson(Decision d) {
        ObjectNode n = JSON.createObjectNode();
        n.put("allowed", d.allowed());
        n.put("status", d.status());
        n.put("reason", d.reason().code());
        ObjectNode set = n.putObject("headers_set");
        ObjectNode actions = n.putObject("headers_append_action");
        for (HeaderMutation m : d.headersSet()) {
            set.put(m.name(), m.value());
            actions.put(m.name(), m.appendAction());
        }
        var removed = n.putArray("headers_removed");
        d.headersRemoved().forEach(removed::add);
        n.put("body", d.body());
        return n.toString();
    }
}
