package io.meshguard.authz.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * How the replay facts were written before the hand-written text (a Jackson tree and its text): the reference the
 * stored rows hold, which {@link RecordedDecision#toJson()} must equal byte for byte. The replay tests check that; the
 * audit encoding benchmark measures what the hand-written text saves against it.
 */
public final class TreeEncodedDecision {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TreeEncodedDecision() {}

    /** The replay facts as a Jackson tree and its text. */
    public static String treeJson(RecordedDecision r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("v", 1);
        o.put("m", r.method());
        o.put("h", r.host());
        o.put("p", r.rawPath());
        ObjectNode hs = o.putObject("hd");
        r.headers().forEach((k, v) -> {
            ArrayNode a = hs.putArray(k);
            v.forEach(a::add);
        });
        strings(o, "hj", r.joined());
        strings(o, "hk", r.keptHeaders());
        if (!r.query().isEmpty()) {
            o.put("q", r.query());
        }
        strings(o, "qk", r.keptQuery());
        strings(o, "ck", r.keptClaims());
        if (!r.context().isEmpty()) {
            ObjectNode c = o.putObject("cx");
            r.context().forEach(c::put);
        }
        if (!r.sourcePrincipal().isEmpty()) {
            o.put("sp", r.sourcePrincipal());
        }
        r.sourceAddress().ifPresent(a -> o.put("sa", a));
        o.put("ak", r.addressKept());
        o.put("cr", r.credential());
        r.identity().ifPresent(id -> {
            ObjectNode i = o.putObject("id");
            i.put("sub", id.subject());
            id.tenant().ifPresent(t -> i.put("ten", t));
            strings(i, "rol", id.roles());
            strings(i, "scp", id.scopes());
            id.clientId().ifPresent(c -> i.put("cid", c));
            i.put("am", id.authMethod());
            i.put("iss", id.issuer());
            id.tier().ifPresent(t -> i.put("tier", t));
            id.credentialId().ifPresent(k -> i.put("kid", k));
            if (!id.claims().isEmpty()) {
                i.set("cl", JSON.valueToTree(id.claims()));
            }
        });
        o.put("al", r.allowed());
        o.put("st", r.status());
        o.put("rs", r.reason());
        r.route().ifPresent(x -> o.put("rt", x));
        r.rule().ifPresent(x -> o.put("ru", x));
        r.quota().ifPresent(x -> o.put("qt", x));
        r.plan().ifPresent(p -> {
            ObjectNode pl = o.putObject("pl");
            pl.put("id", p.planId());
            pl.put("app", p.applicationId());
            p.refusedBy().ifPresent(b -> pl.put("by", b));
        });
        return o.toString();
    }

    private static void strings(ObjectNode o, String key, java.util.Collection<String> values) {
        if (!values.isEmpty()) {
            ArrayNode a = o.putArray(key);
            values.forEach(a::add);
        }
    }
}
