package io.meshguard.runtime.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.OutputStreamAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** Logs through the real SLF4J/Logback stack into an in-memory appender using the encoder under test. */
class JsonLineEncoderTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private OutputStreamAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender;
    private Logger logger;

    @BeforeEach
    void attach() {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        JsonLineEncoder encoder = new JsonLineEncoder();
        encoder.setContext(context);
        encoder.start();
        appender = new OutputStreamAppender<>();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.setOutputStream(bytes);
        appender.start();
        logger = context.getLogger("io.meshguard.test.JsonLines");
        logger.setAdditive(false);
        logger.addAppender(appender);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(appender);
        appender.stop();
        MDC.clear();
    }

    private List<String> lines() {
        return bytes.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void line_hasFixedFieldsAndMdcAtTopLevel() throws Exception {
        try (LogContext ignored = LogContext.forRequest(Optional.of("req-7"), Optional.of("abc123"))) {
            logger.info("allowed {}", "GET /payments");
        }

        assertThat(lines()).hasSize(1);
        JsonNode line = JSON.readTree(lines().get(0));
        assertThat(line.get("time").asText()).matches("\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z");
        assertThat(line.get("level").asText()).isEqualTo("INFO");
        assertThat(line.get("logger").asText()).isEqualTo("io.meshguard.test.JsonLines");
        assertThat(line.get("thread").asText()).isEqualTo(Thread.currentThread().getName());
        assertThat(line.get("message").asText()).isEqualTo("allowed GET /payments");
        assertThat(line.get("request_id").asText()).isEqualTo("req-7");
        assertThat(line.get("trace_id").asText()).isEqualTo("abc123");
        assertThat(line.has("exception")).isFalse();
    }

    @Test
    void message_withQuotesNewlinesControlCharsAndNonAscii_staysOneValidJsonLine() throws Exception {
        String nasty = "say \"hi\"\\ back\nsecond line\r\t\u0000\u0001\u001f\u007f caf\u00e9 \u65e5\u672c "
                + "\ud83d\ude00 \u2028 lone\ud800";

        logger.warn(nasty);

        String raw = bytes.toString(StandardCharsets.UTF_8);
        assertThat(raw).endsWith("\n");
        assertThat(raw.substring(0, raw.length() - 1)).doesNotContain("\n", "\r", "\u0000", "\u2028");
        JsonNode line = JSON.readTree(lines().get(0));
        assertThat(line.get("message").asText()).isEqualTo(nasty);
        assertThat(raw).contains("caf\u00e9", "\ud83d\ude00", "\\u0000", "\\u001f", "\\\"hi\\\"");
    }

    @Test
    void exception_isWrittenAsOneStringWithStackTrace() throws Exception {
        logger.error("boom", new IllegalStateException("policy \"x\" broke"));

        JsonNode line = JSON.readTree(lines().get(0));
        assertThat(line.get("exception").asText())
                .startsWith("java.lang.IllegalStateException: policy \"x\" broke")
                .contains("at io.meshguard.runtime.logging.JsonLineEncoderTest");
    }

    @Test
    void keyValuePairs_areTopLevelWithNumbersUnquoted() throws Exception {
        logger.atInfo()
                .addKeyValue("policy", "authz")
                .addKeyValue("rules", 12)
                .addKeyValue("message", "clash")
                .log("loaded");

        JsonNode line = JSON.readTree(lines().get(0));
        assertThat(line.get("policy").asText()).isEqualTo("authz");
        assertThat(line.get("rules").isInt()).isTrue();
        assertThat(line.get("rules").asInt()).isEqualTo(12);
        assertThat(line.get("message").asText()).isEqualTo("loaded");
        assertThat(line.get("kv_message").asText()).isEqualTo("clash");
    }

    @Test
    void mdcKeyClashingWithFixedField_isPrefixed() throws Exception {
        MDC.put("level", "sneaky");

        logger.info("x");

        JsonNode line = JSON.readTree(lines().get(0));
        assertThat(line.get("level").asText()).isEqualTo("INFO");
        assertThat(line.get("mdc_level").asText()).isEqualTo("sneaky");
    }

    @Test
    void javaUtilLogging_isRoutedIntoTheSameJsonLines() throws Exception {
        JulBridge.install();
        JulBridge.install();

        java.util.logging.Logger.getLogger("io.meshguard.test.JsonLines").warning("from grpc-java");

        JsonNode line = JSON.readTree(lines().get(0));
        assertThat(line.get("level").asText()).isEqualTo("WARN");
        assertThat(line.get("message").asText()).isEqualTo("from grpc-java");
    }

    @Test
    void virtualThread_withoutName_isLabelledVirtual() throws Exception {
        Thread.ofVirtual().start(() -> logger.info("from a virtual thread")).join();

        assertThat(JSON.readTree(lines().get(0)).get("thread").asText()).startsWith("virtual");
    }
}
