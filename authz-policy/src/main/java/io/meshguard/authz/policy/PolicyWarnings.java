package io.meshguard.authz.policy;

import io.meshguard.authz.condition.Condition;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code meshguard policy check} points out in a valid policy without refusing it: choices that are allowed
 * but usually a mistake.
 */
public final class PolicyWarnings {
    private PolicyWarnings() {}

    public static List<PolicyError> of(AuthzPolicy policy) {
        List<PolicyError> out = new ArrayList<>();
        for (RoutePolicy r : policy.routes()) {
            if (r.auth() == AuthMode.NONE && r.match().hosts().isEmpty()) {
                out.add(
                        new PolicyError(
                                policy.source(),
                                r.line(),
                                "route " + r.name()
                                        + ": auth none without 'hosts' opens this path on every host the proxy serves; name the hosts"));
            }
        }
        for (DenyRule rule : policy.denyRules()) {
            for (Condition c : rule.when()) {
                for (String read : unguardedReads(c.source())) {
                    out.add(new PolicyError(
                            policy.source(),
                            c.line(),
                            "deny rule " + rule.name() + " reads " + read
                                    + " without a presence test: a request without it is denied by this rule (deny rules fail"
                                    + " towards deny); if its absence should pass, test it first: '" + guard(read)
                                    + " && …'"));
                }
            }
        }
        return out;
    }

    /** {@code request.headers["k"]}, {@code request.query['k']} or {@code request.query.k}: the map and the key. */
    private static final Pattern MAP_READ = Pattern.compile(
            "request\\.(headers|query)\\s*(?:\\[\\s*([\"'])(.*?)\\2\\s*\\]|\\.([A-Za-z_][A-Za-z0-9_]*))");

    /**
     * The map reads of a deny condition with no presence test of the same key anywhere in it ({@code "k" in
     * request.headers}, or {@code has(request.query.k)}). A lint on the source, not the evaluation: a guard in an
     * unrelated branch silences it, which is the cost of keeping it simple and never wrong about a guarded read.
     */
    static Set<String> unguardedReads(String source) {
        Set<String> out = new LinkedHashSet<>();
        Matcher m = MAP_READ.matcher(source);
        while (m.find()) {
            String map = m.group(1);
            String key = m.group(3) != null ? m.group(3) : m.group(4);
            String in = "([\"'])" + Pattern.quote(key) + "\\1\\s+in\\s+request\\." + map + "\\b";
            String has = "has\\(\\s*request\\." + map + "\\." + Pattern.quote(key) + "\\s*\\)";
            if (!Pattern.compile(in).matcher(source).find()
                    && !Pattern.compile(has).matcher(source).find()) {
                out.add("request." + map + "[\"" + key + "\"]");
            }
        }
        return out;
    }

    private static String guard(String read) {
        int open = read.indexOf('[');
        return read.substring(open + 1, read.length() - 1) + " in " + read.substring(0, open);
    }
}
