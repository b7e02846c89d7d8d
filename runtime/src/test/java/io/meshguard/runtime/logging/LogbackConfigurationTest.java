package io.meshguard.runtime.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Loads the shipped {@code logback.xml} into a fresh Logback context, with the variables the environment would
 * give, and checks what reaches stdout.
 */
class LogbackConfigurationTest {

    private static String logThroughShippedConfig(Map<String, String> variables, String message) throws Exception {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new LogbackMDCAdapter());
        variables.forEach(context::putProperty);
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        URL config = LogbackConfigurationTest.class.getResource("/logback.xml");
        PrintStream originalOut = System.out;
        PrintStream originalErr = System.err;
        ByteArrayOutputStream stdout = new ByteArrayOutputStream();
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            configurator.doConfigure(config);
            context.getLogger("io.meshguard.Example").info(message);
            context.getLogger("io.meshguard.Example").debug("debug line");
        } finally {
            System.setOut(originalOut);
            System.setErr(originalErr);
            context.stop();
        }
        // Standard output belongs to what a command prints (KEY=$(meshguard apikey create ...)): never a log line.
        assertThat(stdout.toString(StandardCharsets.UTF_8))
                .as("log lines on stdout")
                .isEmpty();
        return captured.toString(StandardCharsets.UTF_8);
    }

    @Test
    void default_writesJsonLinesAtInfo() throws Exception {
        String out = logThroughShippedConfig(Map.of(), "hello \"world\"");

        assertThat(out.lines()).hasSize(1);
        assertThat(new ObjectMapper().readTree(out).get("message").asText()).isEqualTo("hello \"world\"");
    }

    @Test
    void textFormat_writesHumanReadableLine() throws Exception {
        String out = logThroughShippedConfig(Map.of("MESHGUARD_LOG_FORMAT", "text"), "hello");

        assertThat(out.lines())
                .singleElement()
                .asString()
                .matches(
                        "\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} INFO  \\[.*] io.meshguard.Example - hello");
    }

    @Test
    void unknownFormat_fallsBackToJson() throws Exception {
        String out = logThroughShippedConfig(Map.of("MESHGUARD_LOG_FORMAT", "xml"), "still logged");

        assertThat(new ObjectMapper().readTree(out).get("message").asText()).isEqualTo("still logged");
    }

    @Test
    void logLevelVariable_setsRootLevel() throws Exception {
        String out = logThroughShippedConfig(Map.of("MESHGUARD_LOG_LEVEL", "debug"), "info line");

        assertThat(out.lines()).hasSize(2);
        assertThat(out).contains("\"level\":\"DEBUG\"");
    }

    @Test
    void textFormat_showsRequestIdWhenSet() {
        LogFormatEncoder encoder = new LogFormatEncoder();
        encoder.setFormat("TEXT");
        LoggerContext context = new LoggerContext();
        encoder.setContext(context);
        encoder.start();
        ch.qos.logback.classic.Logger logger = context.getLogger("x");
        ch.qos.logback.classic.spi.LoggingEvent event =
                new ch.qos.logback.classic.spi.LoggingEvent("fqcn", logger, Level.INFO, "m", null, null);
        event.setMDCPropertyMap(Map.of("request_id", "r-1", "trace_id", "t-1"));
        ch.qos.logback.classic.spi.LoggingEvent bare =
                new ch.qos.logback.classic.spi.LoggingEvent("fqcn", logger, Level.INFO, "m", null, null);
        bare.setMDCPropertyMap(Map.of());

        assertThat(new String(encoder.encode(event), StandardCharsets.UTF_8)).contains("x [req=r-1] [trace=t-1] - m");
        assertThat(new String(encoder.encode(bare), StandardCharsets.UTF_8)).contains(" x - m");
    }
}
