package io.meshguard.extauthz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Property: for generated request paths (random mixes of segments, dots, escapes in any case, {@code ;}
 * parameters, slashes), meshguard either refuses the path (400 {@code invalid_path}) or decides exactly as it
 * decides on the path that upstreams resolve — and every upstream resolves it the same way. The upstreams are
 * modelled independently here, plainly, from their specifications:
 * <ul>
 *   <li>servlet style: strip {@code ;parameters} from each segment, percent-decode, then RFC 3986 §5.2.4
 *       remove_dot_segments (what Tomcat does before it maps a request);</li>
 *   <li>RFC 3986 strict: remove_dot_segments on the path as sent, then decode;</li>
 *   <li>nginx style: decode, merge slashes, then remove_dot_segments.</li>
 * </ul>
 * Seeded: {@code -Dmeshguard.seed=N} replays a run; the seed is printed with any failure.
 */
class PathResolutionPropertyTest {
    private static final String POLICY = """
            issuers:
              - name: test-idp
                issuer: https://idp.test.example
                jwks_uri: http://127.0.0.1:1/jwks.json
            routes:
              - {name: public, match: {path_prefix: /public}, auth: none}
              - {name: admin, match: {path_prefix: /admin}, auth: jwt}
              - {name: exact, match: {path: /a/b}, auth: none}
              - {name: files, match: {path_regex: '^/files/[a-z]+\\.json$'}, auth: none}
              - {name: matrix, match: {path_prefix: /m}, auth: none, allow_path_parameters: true}
              - {name: unicode, match: {path: /café}, auth: none}
            """;
    private static final String[] WORDS = {"a", "b", "admin", "public", "m", "files", "x.json", "café", "...", "a.b"};
    private static final String[] DOTS = {".", "..", "%2e", "%2e%2e", ".%2e", "%2e.", "%2E%2e", ".."};
    private static final String[] ENCODED = {
        "%61dmin", "%70ublic", "p%75blic", "%61", "%41", "x%2ejson", "caf%c3%a9", "%7e", "%20"
    };
    private static final String[] HOSTILE = {
        "%2f",
        "%5c",
        "%3b",
        "%3f",
        "%23",
        "%25",
        "%252e",
        "%c0%ae",
        "%ef%bc%8e",
        "%00",
        "%",
        "%g1",
        "%2",
        "\\",
        "#f",
        "%c3",
        "\u0001"
    };
    private static final String[] PARAMS = {";", ";x", ";x=1", ";jsessionid=AB"};

    static AuthzPipeline pipeline;

    @BeforeAll
    static void start() {
        pipeline = Fixtures.pipeline(Fixtures.parse(POLICY), new SimpleMeterRegistry(), Optional.empty());
    }

    @AfterAll
    static void stop() {
        pipeline.close();
    }

    @Test
    void generatedPaths_areRefusedOrDecidedAsEveryResolverResolvesThem() {
        long seed = Long.getLong("meshguard.seed", System.nanoTime());
        Random random = new Random(seed);
        int accepted = 0;
        int refused = 0;
        int withParameters = 0;
        for (int i = 0; i < 20_000; i++) {
            String target = generate(random);
            String context = "seed " + seed + " (replay: -Dmeshguard.seed=" + seed + "), case " + i + ": " + target;
            HttpRequestView view = view(target);
            Decision d = pipeline.decide(view);
            if (d.reason() == Reason.INVALID_PATH) {
                refused++;
                assertThat(d.status()).as(context).isEqualTo(400);
                continue;
            }
            accepted++;
            String servlet = servletResolve(target);
            assertThat(view.path()).as(context).isEqualTo(servlet);
            if (view.target().hasParameters()) {
                withParameters++;
                // parameters pass only on the route that opted in (anything else is refused above or matches no route)
                assertThat(d.route().orElse("matrix")).as(context).isEqualTo("matrix");
            } else {
                assertThat(view.path()).as(context + " (RFC 3986 strict)").isEqualTo(rfcResolve(target));
                assertThat(view.path()).as(context + " (nginx)").isEqualTo(nginxResolve(target));
            }
            Decision resolved = pipeline.decide(view(encodeForRequest(servlet)));
            assertThat(summary(d)).as(context + " vs resolved " + servlet).isEqualTo(summary(resolved));
        }
        // the generator must exercise both sides, or the property says nothing
        assertThat(accepted).as("seed " + seed).isGreaterThan(1_000);
        assertThat(refused).as("seed " + seed).isGreaterThan(1_000);
        assertThat(withParameters).as("seed " + seed).isGreaterThan(50);
    }

    private static HttpRequestView view(String target) {
        return HttpRequestView.of(CheckRequests.of(
                "GET", "api.test.example", target, Map.of(), Map.of(), CheckRequests.Encoding.HEADERS));
    }

    private static String summary(Decision d) {
        return d.allowed() + " " + d.status() + " " + d.reason().code() + " "
                + d.route().orElse("-");
    }

    // ---- generator -------------------------------------------------------------------------------------------

    private static String generate(Random r) {
        StringBuilder sb = new StringBuilder();
        int segments = 1 + r.nextInt(4);
        for (int s = 0; s < segments; s++) {
            sb.append(r.nextInt(25) == 0 ? "//" : "/");
            int pieces = 1 + r.nextInt(2);
            for (int p = 0; p < pieces; p++) {
                int kind = r.nextInt(100);
                String piece;
                if (kind < 45) {
                    piece = pick(r, WORDS);
                } else if (kind < 60) {
                    piece = pick(r, DOTS);
                } else if (kind < 75) {
                    piece = pick(r, ENCODED);
                } else if (kind < 87) {
                    piece = pick(r, PARAMS);
                } else {
                    piece = pick(r, HOSTILE);
                }
                sb.append(randomHexCase(r, piece));
            }
        }
        if (r.nextInt(10) == 0) {
            sb.append('/');
        }
        if (r.nextInt(8) == 0) {
            sb.append("?q=").append(pick(r, new String[] {"1", "/../admin", "%2f", "a;b"}));
        }
        return sb.toString();
    }

    private static String pick(Random r, String[] from) {
        return from[r.nextInt(from.length)];
    }

    /** Flips the case of hex digits after '%', so %2e, %2E, %C3%a9 … all occur. */
    private static String randomHexCase(Random r, String s) {
        char[] c = s.toCharArray();
        for (int i = 0; i < c.length; i++) {
            if (c[i] == '%') {
                for (int k = i + 1; k <= i + 2 && k < c.length; k++) {
                    c[k] = r.nextBoolean() ? Character.toUpperCase(c[k]) : Character.toLowerCase(c[k]);
                }
            }
        }
        return new String(c);
    }

    // ---- reference resolvers: written from the specifications, sharing no code with CanonicalPath ---------------

    private static String pathOf(String target) {
        int q = target.indexOf('?');
        return q < 0 ? target : target.substring(0, q);
    }

    static String servletResolve(String target) {
        String[] segments = pathOf(target).split("/", -1);
        List<String> kept = new ArrayList<>();
        for (String segment : segments) {
            int semi = segment.indexOf(';');
            kept.add(semi < 0 ? segment : segment.substring(0, semi));
        }
        return removeDotSegments(decode(String.join("/", kept)));
    }

    static String rfcResolve(String target) {
        return decode(removeDotSegments(pathOf(target)));
    }

    static String nginxResolve(String target) {
        String decoded = decode(pathOf(target));
        StringBuilder merged = new StringBuilder();
        for (int i = 0; i < decoded.length(); i++) {
            char c = decoded.charAt(i);
            if (c == '/' && merged.length() > 0 && merged.charAt(merged.length() - 1) == '/') {
                continue;
            }
            merged.append(c);
        }
        return removeDotSegments(merged.toString());
    }

    /** Percent-decoding into UTF-8 (lenient, as most servers are: bad escapes stay as they are). */
    static String decode(String s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%' && i + 2 < s.length() && isHex(s.charAt(i + 1)) && isHex(s.charAt(i + 2))) {
                bytes.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    /** RFC 3986 §5.2.4, step by step. */
    static String removeDotSegments(String path) {
        String in = path;
        StringBuilder out = new StringBuilder();
        while (!in.isEmpty()) {
            if (in.startsWith("../")) {
                in = in.substring(3);
            } else if (in.startsWith("./")) {
                in = in.substring(2);
            } else if (in.startsWith("/./")) {
                in = in.substring(2);
            } else if (in.equals("/.")) {
                in = "/";
            } else if (in.startsWith("/../")) {
                in = in.substring(3);
                removeLastSegment(out);
            } else if (in.equals("/..")) {
                in = "/";
                removeLastSegment(out);
            } else if (in.equals(".") || in.equals("..")) {
                in = "";
            } else {
                int next = in.indexOf('/', in.startsWith("/") ? 1 : 0);
                String first = next < 0 ? in : in.substring(0, next);
                out.append(first);
                in = in.substring(first.length());
            }
        }
        return out.toString();
    }

    private static void removeLastSegment(StringBuilder out) {
        int slash = out.lastIndexOf("/");
        out.setLength(slash < 0 ? 0 : slash);
    }

    /** The resolved path as a client would send it: what cannot appear raw in a path is percent-encoded. */
    private static String encodeForRequest(String path) {
        StringBuilder sb = new StringBuilder();
        for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
            int v = b & 0xff;
            if (v >= 0x80 || v == ' ') {
                sb.append('%').append(String.format(Locale.ROOT, "%02X", v));
            } else {
                sb.append((char) v);
            }
        }
        return sb.toString();
    }
}
