package io.meshguard.xds.change;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import io.meshguard.testing.SlowTest;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The diff compares only objects whose records differ, and says exactly what the whole-tree comparison said. */
@SlowTest
class RevisionDiffTest {

    @Test
    void diff_ofRandomRevisions_isWhatTheWholeTreeComparisonGives() {
        Random random = new Random(27);
        for (int round = 0; round < 300; round++) {
            long seed = random.nextLong();
            GatewayConfig a = config(new Random(seed), 0);
            GatewayConfig b = config(new Random(seed), 1 + random.nextInt(12));
            List<RevisionDiff.Change> fast = RevisionDiff.diff(a, b);
            assertThat(fast).as("seed %d", seed).isEqualTo(WholeTree.diff(a, b));
            assertThat(RevisionDiff.diff(b, a)).as("seed %d reversed", seed).isEqualTo(WholeTree.diff(b, a));
        }
    }

    @Test
    void diff_ofARevisionWithItself_isEmpty_andAnAddedRouteIsOneChange() {
        GatewayConfig a = config(new Random(1), 0);
        assertThat(RevisionDiff.diff(a, a)).isEmpty();
        GatewayConfig b = ConfigJson.readConfig(
                ConfigJson.write(a)
                        .replaceFirst(
                                "\"routes\"\\s*:\\s*\\[",
                                "\"routes\":[{\"name\":\"extra\",\"group\":\"g0\",\"api\":\"api0\",\"version\":\"v1\","
                                        + "\"match\":{\"path_prefix\":\"/x\"},\"destinations\":[{\"upstream\":\"u0\",\"weight\":100}]},"));
        List<RevisionDiff.Change> changes = RevisionDiff.diff(a, b);
        assertThat(changes).hasSize(1);
        assertThat(changes.get(0).path()).isEqualTo("routes[g0/extra]");
        assertThat(changes.get(0).before().isNull()).isTrue();
    }

    /**
     * A configuration from {@code r}; {@code mutations} random edits after the same base (same seed, same base), so
     * two calls with one seed give two revisions of one configuration.
     */
    private static GatewayConfig config(Random r, int mutations) {
        int groups = 1 + r.nextInt(3);
        int upstreams = 1 + r.nextInt(4);
        int apis = 1 + r.nextInt(3);
        int routes = 5 + r.nextInt(60);
        List<String> groupJson = new ArrayList<>();
        for (int i = 0; i < groups; i++) {
            groupJson.add("{\"name\":\"g" + i + "\",\"environment\":\"dev\",\"region\":\"eu\",\"listener_port\":"
                    + (8080 + i) + "}");
        }
        List<String> upstreamJson = new ArrayList<>();
        for (int i = 0; i < upstreams; i++) {
            upstreamJson.add("{\"name\":\"u" + i + "\",\"endpoints\":[{\"address\":\"10.0.0." + (i + 1)
                    + "\",\"port\":80,\"weight\":" + (1 + r.nextInt(3)) + "}]}");
        }
        List<String> apiJson = new ArrayList<>();
        for (int i = 0; i < apis; i++) {
            apiJson.add("{\"name\":\"api" + i + "\",\"base_path\":\"/api" + i + "\",\"default_version\":\"v1\","
                    + "\"versions\":[{\"version\":\"v1\"},{\"version\":\"v2\"}]}");
        }
        List<String[]> routeParts = new ArrayList<>();
        for (int i = 0; i < routes; i++) {
            routeParts.add(new String[] {
                "r" + i,
                "g" + r.nextInt(groups),
                "api" + r.nextInt(apis),
                "v" + (1 + r.nextInt(2)),
                "/p" + r.nextInt(1000),
                "u" + r.nextInt(upstreams),
                String.valueOf(r.nextInt(3) == 0 ? 30000 : 15000)
            });
        }
        Random edits = new Random(r.nextLong() + mutations);
        for (int m = 0; m < mutations; m++) {
            int which = edits.nextInt(routeParts.size());
            switch (edits.nextInt(7)) {
                case 0 -> routeParts.remove(which);
                case 1 -> routeParts.add(new String[] {"n" + m, "g0", "api0", "v1", "/new" + m, "u0", "1000"});
                case 2 -> routeParts.get(which)[4] = "/moved" + m;
                case 3 -> routeParts.get(which)[5] = "u" + edits.nextInt(upstreams);
                case 4 -> routeParts.get(which)[6] = String.valueOf(edits.nextInt(60000));
                case 5 -> upstreamJson.set(0, upstreamJson.get(0).replace("\"port\":80", "\"port\":" + (81 + m)));
                default ->
                    apiJson.set(
                            0,
                            apiJson.get(0)
                                    .replace(
                                            "{\"version\":\"v2\"}",
                                            "{\"version\":\"v2\",\"status\":\"deprecated\",\"deprecated_at\":\"2026-01-01T00:00:00Z\","
                                                    + "\"successor\":\"v1\"}"));
            }
            if (routeParts.isEmpty()) {
                routeParts.add(new String[] {"last", "g0", "api0", "v1", "/", "u0", "1000"});
            }
        }
        List<String> routeJson = routeParts.stream()
                .map(p -> "{\"name\":\"" + p[0] + "\",\"group\":\"" + p[1]
                        + "\",\"api\":\"" + p[2] + "\",\"version\":\"" + p[3] + "\",\"match\":{\"path_prefix\":\""
                        + p[4]
                        + "\"},\"destinations\":[{\"upstream\":\"" + p[5] + "\",\"weight\":100}],\"timeout_ms\":" + p[6]
                        + "}")
                .toList();
        return ConfigJson.readConfig("{\"groups\":[" + String.join(",", groupJson) + "],\"upstreams\":["
                + String.join(",", upstreamJson) + "],\"apis\":[" + String.join(",", apiJson) + "],\"routes\":["
                + String.join(",", routeJson) + "]}");
    }

    /** The diff as it was before it compared records first: both configurations as whole JSON trees. */
    private static final class WholeTree {
        static List<RevisionDiff.Change> diff(GatewayConfig from, GatewayConfig to) {
            JsonNode a = ConfigJson.mapper().valueToTree(from);
            JsonNode b = ConfigJson.mapper().valueToTree(to);
            List<RevisionDiff.Change> out = new ArrayList<>();
            for (String kind : List.of("groups", "upstreams", "apis", "routes")) {
                Map<String, JsonNode> before = byName(a.path(kind));
                Map<String, JsonNode> after = byName(b.path(kind));
                TreeSet<String> names = new TreeSet<>(before.keySet());
                names.addAll(after.keySet());
                for (String name : names) {
                    compare(
                            kind + "[" + name + "]",
                            before.getOrDefault(name, NullNode.getInstance()),
                            after.getOrDefault(name, NullNode.getInstance()),
                            out);
                }
            }
            return out;
        }

        private static Map<String, JsonNode> byName(JsonNode list) {
            Map<String, JsonNode> m = new TreeMap<>();
            for (JsonNode n : list) {
                String key = n.has("group") && n.has("api")
                        ? n.path("group").asText() + "/" + n.path("name").asText()
                        : n.path("name").asText();
                m.put(key, n);
            }
            return m;
        }

        private static void compare(String path, JsonNode before, JsonNode after, List<RevisionDiff.Change> out) {
            if (before.equals(after)) {
                return;
            }
            if (before.isObject() && after.isObject()) {
                TreeSet<String> fields = new TreeSet<>();
                before.fieldNames().forEachRemaining(fields::add);
                for (Iterator<String> it = after.fieldNames(); it.hasNext(); ) {
                    fields.add(it.next());
                }
                for (String f : fields) {
                    compare(
                            path + "." + f,
                            before.path(f).isMissingNode() ? NullNode.getInstance() : before.get(f),
                            after.path(f).isMissingNode() ? NullNode.getInstance() : after.get(f),
                            out);
                }
                return;
            }
            out.add(new RevisionDiff.Change(path, before, after));
        }
    }
}
