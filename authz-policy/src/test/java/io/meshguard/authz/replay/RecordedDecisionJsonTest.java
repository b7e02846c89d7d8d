package io.meshguard.authz.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.PlanUse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The replay facts' JSON is written by hand; rows already stored were written from a Jackson tree, and both must be the
 * same text for every input (the stored bytes, and what {@code fromJson} and the impact report read, do not change).
 */
class RecordedDecisionJsonTest {
    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00.123456Z");

    /** Awkward text: quotes, backslashes, every control character, non-ASCII, astral and broken surrogate pairs. */
    private static final List<String> TEXTS = texts();

    private static List<String> texts() {
        List<String> out = new ArrayList<>(List.of(
                "",
                "plain",
                "say \"hi\"",
                "back\\slash\\\\",
                "/v1/orders/42?x=1&y=\"2\"",
                "größe/ĉapelo/日本語",
                "emoji 😀 pair",
                "lone high \uD83D end",
                "lone low \uDE00 end",
                "reversed \uDE00\uD83D",
                "del \u007F and nbsp \u00A0 and line sep \u2028",
                "</script>",
                "tab\there\nnewline\rcr\bbs\fff"));
        StringBuilder controls = new StringBuilder();
        for (char c = 0; c < 0x20; c++) {
            controls.append(c).append('x');
        }
        out.add(controls.toString());
        return out;
    }

    @Test
    void toJson_variedDecisions_sameTextAsTheJacksonTree() {
        int checked = 0;
        for (int i = 0; i < TEXTS.size(); i++) {
            String a = TEXTS.get(i);
            String b = TEXTS.get((i + 5) % TEXTS.size());
            for (int shape = 0; shape < 4; shape++) {
                RecordedDecision r = decision(a, b, shape);
                assertEquals(TreeEncodedDecision.treeJson(r), r.toJson(), "shape " + shape + " text " + i);
                checked++;
            }
        }
        assertEquals(TEXTS.size() * 4, checked);
    }

    @Test
    void toJson_handWritten_readsBackTheSameFacts() {
        RecordedDecision r = decision("say \"hi\" \\ 😀", "größe\t", 3);
        RecordedDecision back = RecordedDecision.fromJson(r.toJson(), r.requestId(), r.time(), r.subscription());
        assertEquals(r.headers(), back.headers());
        assertEquals(r.context(), back.context());
        assertEquals(r.keptHeaders(), back.keptHeaders());
        assertEquals(r.plan(), back.plan());
        assertEquals(r.reason(), back.reason());
        assertEquals(
                r.identity().orElseThrow().subject(),
                back.identity().orElseThrow().subject());
    }

    /** Shape 0: everything empty or absent; 1: identity without claims; 2: claims and a plan; 3: all of it. */
    private static RecordedDecision decision(String a, String b, int shape) {
        boolean full = shape > 0;
        Map<String, List<String>> headers = new TreeMap<>();
        Set<String> joined = new TreeSet<>();
        Set<String> keptHeaders = new TreeSet<>();
        Map<String, String> context = new TreeMap<>();
        if (full) {
            headers.put("x-" + a, List.of(a, b));
            headers.put("x-tenant-id", List.of(b));
            headers.put("authorization", List.of(RecordedDecision.PRESENT, ""));
            joined.add("x-" + a);
            keptHeaders.addAll(headers.keySet());
            keptHeaders.add("x-never-sent");
            context.put("meshguard.route", a);
            context.put(b + "key", "v" + b);
        }
        Optional<Identity> identity = Optional.empty();
        if (shape >= 1) {
            Map<String, Object> claims = new LinkedHashMap<>();
            if (shape >= 2) {
                claims.put("amr", List.of("pwd", a));
                claims.put("n", 42L);
                claims.put("f", 1.5);
                claims.put("ok", true);
                claims.put("nested", Map.of("k", b));
                claims.put(a, b);
            }
            identity = Optional.of(new Identity(
                    "user-" + a,
                    shape == 3 ? Optional.of("tenant-" + b) : Optional.empty(),
                    shape == 3 ? List.of("user", a) : List.of(),
                    shape >= 2 ? List.of("pay", b) : List.of(),
                    shape == 3 ? Optional.of("client-" + a) : Optional.empty(),
                    "jwt",
                    "https://idp.example/" + b,
                    shape == 3 ? Optional.of("gold" + a) : Optional.empty(),
                    shape == 3 ? Optional.of("kid-" + b) : Optional.empty(),
                    claims));
        }
        return new RecordedDecision(
                "req-" + a,
                T0,
                shape == 0 ? "GET" : "P" + a,
                "api.example" + b,
                "/p/" + a,
                headers,
                joined,
                keptHeaders,
                full ? "q=" + a + "&r=" + b : "",
                full ? Set.of("q", "r") : Set.of(),
                shape >= 2 ? new TreeSet<>(Set.of("amr", "n")) : Set.of(),
                context,
                full ? "spiffe://cluster.local/ns/" + a : "",
                shape == 3 ? Optional.of("10.0.0." + b) : Optional.empty(),
                shape == 3,
                shape == 0 ? RecordedDecision.UNCHECKED : RecordedDecision.VERIFIED,
                identity,
                shape % 2 == 1,
                shape % 2 == 1 ? 200 : 403,
                shape == 0 ? "missing_credential" : "ok" + a,
                full ? Optional.of("route-" + b) : Optional.empty(),
                shape == 2 ? Optional.of("rule-" + a) : Optional.empty(),
                shape == 3 ? Optional.of("quota-" + b) : Optional.empty(),
                Optional.empty(),
                shape >= 2
                        ? Optional.of(
                                new PlanUse("plan-" + a, "app-" + b, shape == 3 ? Optional.of(a) : Optional.empty()))
                        : Optional.empty());
    }
}
