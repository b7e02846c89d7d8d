package io.meshguard.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.PlanLimits;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PlanLimitsJsonTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void limits_roundTrip() throws Exception {
        PlanLimits limits = PlanLimitsJson.parse(
                JSON.readTree("{\"rates\":[{\"requests\":50,\"per\":\"1s\"},"
                        + "{\"requests\":2000,\"per\":\"1m\"}],\"quota\":{\"period\":\"month\",\"limit\":100000,"
                        + "\"zone\":\"Europe/Berlin\",\"block\":false}}"),
                "plan");
        assertThat(limits.rates()).extracting(Limit::per).containsExactly(Duration.ofSeconds(1), Duration.ofMinutes(1));
        assertThat(limits.quota().orElseThrow().blockWhenUsedUp()).isFalse();
        assertThat(PlanLimitsJson.parse(PlanLimitsJson.write(limits), "again")).isEqualTo(limits);
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"rate\":[]}|unknown field 'rate'",
                "{\"rates\":[{\"requests\":5,\"per\":\"1s\",\"burst\":9}]}|unknown field 'burst'",
                "{\"rates\":[{\"requests\":5,\"per\":\"1 second\"}]}|a whole number of s, m, h or d",
                "{\"rates\":[{\"requests\":0,\"per\":\"1s\"}]}|requests must be at least 1",
                "{\"rates\":[{\"requests\":1.5,\"per\":\"1s\"}]}|a whole number",
                "{\"rates\":[{\"requests\":\"5\",\"per\":\"1s\"}]}|a whole number",
                "{\"rates\":[{\"requests\":5,\"per\":\"2d\"}]}|between 1s and 1d",
                "{\"quota\":{\"period\":\"week\",\"limit\":5}}|day or month",
                "{\"quota\":{\"period\":\"day\",\"limit\":5,\"zone\":\"Mars/Olympus\"}}|not a time zone",
                "{\"quota\":{\"period\":\"day\",\"limit\":5,\"block\":\"yes\"}}|true or false",
                "[]|must be an object"
            })
    void misspeltOrImpossibleLimits_areRefused_notIgnored(String json, String message) throws Exception {
        assertThatThrownBy(() -> PlanLimitsJson.parse(JSON.readTree(json), "plan gold"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("plan gold")
                .hasMessageContaining(message);
    }
}
