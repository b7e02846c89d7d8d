package io.meshguard.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FlatJsonTest {
    private static final ObjectMapper JACKSON = new ObjectMapper();

    @Test
    void write_everyCharacterOfTheFirstPlaneAndOddPairs_matchesJacksonCharForChar() throws Exception {
        StringBuilder all = new StringBuilder();
        for (char c = 0; c < 0x3000; c++) {
            all.append(c);
        }
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("all", all.toString());
        object.put("quote\"key\\\n", "a\"b\\c\u0000d\u001fe\u007f\u2028\u2029");
        object.put("lone surrogates", "x\uD800y\uDC00z\uD83D\uDE00");
        object.put("empty", "");
        object.put("token_cached", Boolean.TRUE);
        object.put("int", -7);
        object.put("long", Long.MAX_VALUE);
        assertEquals(JACKSON.writeValueAsString(object), FlatJson.write(object).orElseThrow());
    }

    @Test
    void write_nestedValues_leavesThemToJackson() {
        Map<String, Object> object = new LinkedHashMap<>();
        object.put("list", List.of("a"));
        assertTrue(FlatJson.write(object).isEmpty());
    }

    @Test
    void build_flatDetails_storesWhatJacksonWould() throws Exception {
        AuditEvent event = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .detail("description", "allowed \"x\"\n")
                .detail("token_cached", true)
                .detail("n", 3)
                .build();
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("description", "allowed \"x\"\n");
        expected.put("token_cached", true);
        expected.put("n", 3);
        assertEquals(JACKSON.writeValueAsString(expected), event.detailsJson());
    }
}
