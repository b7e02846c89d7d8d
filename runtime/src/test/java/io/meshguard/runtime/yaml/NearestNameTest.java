package io.meshguard.runtime.yaml;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class NearestNameTest {
    private static final List<String> KEYS =
            List.of("grpc.port", "grpc.bind", "grpc.max_inbound_message_bytes", "http.port");

    @Test
    void suggest_oneTypo_findsKey() {
        assertThat(NearestName.suggest("grpc.prot", KEYS)).contains("grpc.port");
        assertThat(NearestName.suggest("grpc.max_inbound_mesage_bytes", KEYS))
                .contains("grpc.max_inbound_message_bytes");
    }

    @Test
    void suggest_farAway_findsNothing() {
        assertThat(NearestName.suggest("database.url", KEYS)).isEmpty();
    }

    @Test
    void distance_countsTranspositionAsOneEdit() {
        assertThat(NearestName.distance("ab", "ba")).isEqualTo(1);
        assertThat(NearestName.distance("kitten", "sitting")).isEqualTo(3);
    }
}
