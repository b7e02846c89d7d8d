// Single-file program (java -cp CLASSPATH docs/benchmarks/RevisionDiffCpu.java): docs/benchmarks.md, "Console".
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.change.RevisionDiff;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.*;

/** Thread CPU per diff of ConsoleBench's two 2,000-route revisions (rev 0 vs rev 29): whole-tree vs records-first. */
public class RevisionDiffCpu {
    public static void main(String[] args) throws Exception {
        GatewayConfig a = config(0), b = config(29);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        if (!RevisionDiff.diff(a, b).equals(old(a, b))) throw new AssertionError("outputs differ");
        long[] oldNs = new long[40], newNs = new long[40];
        for (int warm = 0; warm < 15; warm++) { old(a, b); RevisionDiff.diff(a, b); }
        for (int i = 0; i < 40; i++) {
            long t = mx.getCurrentThreadCpuTime(); old(a, b); oldNs[i] = mx.getCurrentThreadCpuTime() - t;
            t = mx.getCurrentThreadCpuTime(); RevisionDiff.diff(a, b); newNs[i] = mx.getCurrentThreadCpuTime() - t;
        }
        Arrays.sort(oldNs); Arrays.sort(newNs);
        String json = ConfigJson.write(a); long[] parse = new long[40];
        for (int i = 0; i < 40; i++) { long t = mx.getCurrentThreadCpuTime(); ConfigJson.readConfig(json); parse[i] = mx.getCurrentThreadCpuTime() - t; }
        Arrays.sort(parse);
        System.out.printf("reading one 2,000-route revision's JSON (%d bytes): p50 %.1f ms CPU%n", json.length(), parse[20] / 1e6);
        System.out.printf("changes %d; thread CPU per diff, ms: whole-tree p50 %.1f p95 %.1f; records-first p50 %.1f p95 %.1f; ratio p50 %.2f%n",
                RevisionDiff.diff(a, b).size(), oldNs[20] / 1e6, oldNs[37] / 1e6, newNs[20] / 1e6, newNs[37] / 1e6,
                (double) newNs[20] / oldNs[20]);
    }

    static GatewayConfig config(int rev) throws Exception {
        GatewayConfig sample = XdsController.sampleConfig();
        Route template = sample.routes().stream().filter(r -> r.name().equals("status-health")).findFirst().orElseThrow();
        List<Route> routes = new ArrayList<>(sample.routes());
        for (int i = routes.size(); i < 2000; i++) {
            ObjectNode json = ConfigJson.mapper().valueToTree(template);
            json.put("name", "bulk-" + i);
            ObjectNode match = (ObjectNode) json.path("match");
            match.remove(List.of("path_exact", "path_regex"));
            match.put("path_prefix", "/bulk/" + i + (i % 10 == rev % 10 ? "/r" + rev : ""));
            routes.add(ConfigJson.mapper().treeToValue(json, Route.class));
        }
        // as read back from the store: a fresh parse, so no object is shared between the two revisions
        return ConfigJson.readConfig(ConfigJson.write(new GatewayConfig(sample.groups(), sample.upstreams(), sample.apis(), routes)));
    }

    static List<RevisionDiff.Change> old(GatewayConfig from, GatewayConfig to) {
        JsonNode a = ConfigJson.mapper().valueToTree(from), b = ConfigJson.mapper().valueToTree(to);
        List<RevisionDiff.Change> out = new ArrayList<>();
        for (String kind : List.of("groups", "upstreams", "apis", "routes")) {
            Map<String, JsonNode> before = byName(a.path(kind)), after = byName(b.path(kind));
            TreeSet<String> names = new TreeSet<>(before.keySet()); names.addAll(after.keySet());
            for (String name : names) compare(kind + "[" + name + "]", before.getOrDefault(name, NullNode.getInstance()), after.getOrDefault(name, NullNode.getInstance()), out);
        }
        return out;
    }
    static Map<String, JsonNode> byName(JsonNode list) {
        Map<String, JsonNode> m = new TreeMap<>();
        for (JsonNode n : list) m.put(n.has("group") && n.has("api") ? n.path("group").asText() + "/" + n.path("name").asText() : n.path("name").asText(), n);
        return m;
    }
    static void compare(String path, JsonNode before, JsonNode after, List<RevisionDiff.Change> out) {
        if (before.equals(after)) return;
        if (before.isObject() && after.isObject()) {
            TreeSet<String> fields = new TreeSet<>(); before.fieldNames().forEachRemaining(fields::add); after.fieldNames().forEachRemaining(fields::add);
            for (String f : fields) compare(path + "." + f, before.path(f).isMissingNode() ? NullNode.getInstance() : before.get(f), after.path(f).isMissingNode() ? NullNode.getInstance() : after.get(f), out);
            return;
        }
        out.add(new RevisionDiff.Change(path, before, after));
    }
}
