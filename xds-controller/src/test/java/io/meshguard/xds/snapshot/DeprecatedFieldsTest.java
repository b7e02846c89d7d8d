package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Nothing the controller emits is deprecated in Envoy's API: every field set and every enum value used, walked
 * through every {@code Any}, is checked against the {@code deprecated} option of Envoy's own descriptors (the
 * {@code [deprecated = true]} annotations Envoy warns about and will remove, e.g. the route-level {@code cors}).
 */
class DeprecatedFieldsTest {

    static List<GroupResources> everyConfigWeShip() throws Exception {
        List<GroupResources> out = new ArrayList<>();
        GatewayConfig demo = ConfigJson.readConfig(Files.readString(Path.of("../deploy/local/gateway.json")));
        out.add(new SnapshotBuilder(FilterTargets.DEFAULTS).build(demo, "local"));
        try (InputStream in = DeprecatedFieldsTest.class.getResourceAsStream("/golden/lifecycle-config.yaml")) {
            GatewayConfig golden =
                    GatewayYaml.read("lifecycle-config.yaml", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            out.add(new SnapshotBuilder(FilterTargets.DEFAULTS).build(golden, "edge"));
        }
        GatewayConfig full = GatewayYaml.read("full.yaml", """
                groups:
                  - name: edge
                    environment: dev
                    hostnames: [api.bank.example]
                    cors: {allowed_origins: ['https://*.dev.bank.example'], allow_credentials: true}
                    api_cors: {chat: {allowed_origins: [https://agent.dev.bank.example]}}
                upstreams:
                  - {name: by-ip, protocol: grpc, endpoints: [{address: 10.0.0.1, port: 80}],
                     health_check: {}, circuit_breaker: {}, outlier_detection: {}}
                  - {name: by-name, protocol: h2, endpoints: [{address: api.partner.example, port: 443}], tls: {}}
                  - {name: by-names, endpoints: [{address: a.example, port: 80}, {address: b.example, port: 80}],
                     health_check: {path: /healthz}}
                apis:
                  - {name: chat, base_path: /chat, default_version: v1, versions: [{version: v1}]}
                routes:
                  - {name: stream, group: edge, api: chat, version: v1, streaming: true, match: {path_prefix: /s},
                     destinations: [{upstream: by-name, weight: 100}]}
                  - {name: split, group: edge, api: chat, version: v1, match: {path_prefix: /x, methods: [GET, POST],
                     headers: [{name: x-a, exact: b}]}, retry: {attempts: 2, per_try_timeout_ms: 500},
                     destinations: [{upstream: by-ip, weight: 50}, {upstream: by-names, weight: 50}]}
                """);
        out.add(new SnapshotBuilder(FilterTargets.DEFAULTS).build(full, "edge"));
        return out;
    }

    @Test
    void noEmittedFieldOrEnumValue_isDeprecatedInEnvoysApi() throws Exception {
        TreeSet<String> deprecated = new TreeSet<>();
        TreeSet<String> seen = new TreeSet<>();
        for (GroupResources r : everyConfigWeShip()) {
            List<Message> all = new ArrayList<>();
            all.addAll(r.listeners());
            all.addAll(r.routes());
            all.addAll(r.clusters());
            all.addAll(r.endpoints());
            for (Message m : all) {
                walk(m, deprecated, seen);
            }
        }
        // the walk reached the nested typed configs, not only the top-level resources
        assertThat(seen)
                .contains(
                        "envoy.extensions.filters.http.cors.v3.CorsPolicy.allow_origin_string_match",
                        "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.normalize_path",
                        "envoy.config.cluster.v3.Cluster.load_assignment",
                        "envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.response_body_mode",
                        "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz.status_on_error",
                        "envoy.config.core.v3.KeepaliveSettings.interval");
        assertThat(deprecated).isEmpty();
    }

    static void walk(Message m, TreeSet<String> deprecated, TreeSet<String> seen) throws Exception {
        if (m.getDescriptorForType().getFullName().equals("google.protobuf.Any")) {
            // a generated Any, or an Any inside a message already read dynamically
            walk(unpack(Any.parseFrom(m.toByteString())), deprecated, seen);
            return;
        }
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            seen.add(f.getFullName());
            if (f.getOptions().getDeprecated()) {
                deprecated.add(f.getFullName());
            }
            List<?> values = f.isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
            for (Object v : values) {
                if (v instanceof Message nested) {
                    walk(nested, deprecated, seen);
                } else if (v instanceof EnumValueDescriptor ev
                        && ev.getOptions().getDeprecated()) {
                    deprecated.add(ev.getFullName());
                }
            }
        }
    }

    private static Message unpack(Any any) throws Exception {
        var descriptor =
                EnvoyJson.TYPES.find(any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1));
        assertThat(descriptor)
                .as("type %s is in EnvoyJson.TYPES", any.getTypeUrl())
                .isNotNull();
        return com.google.protobuf.DynamicMessage.parseFrom(descriptor, any.getValue());
    }
}
