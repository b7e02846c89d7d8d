package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/**
 * Held tool calls in a real headless Chromium, signed in through a real Keycloak: a call of {@code transfer_funds} the
 * DLP server held (its row as the DLP server writes it) is read by the auditor dora, who gets no way to decide; the
 * security approvers sam and tess approve it with a reason each, the first leaving it at 1 of 2 and the second making
 * it approved. The screen passes axe's serious checks and its own CSP; both approvals are admin-trail rows.
 */
@IntegrationTest
class ToolCallsBrowserTest {
    static final String SCREEN = "/console/tool-approvals";

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static KeycloakSignedConsole console;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Chromium.requireInstalled();
        console =
                KeycloakSignedConsole.create("/console-realm.json", "tool-calls", "xds-console", PG.dataSource(), tmp);
        base = console.base();
        console.startConsole(Optional.empty());
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    void heldCall_auditorReadsItWithoutAForm_twoSecurityApproversApproveIt_oneAfterTheOther() throws Exception {
        long id = HeldToolCalls.transferFunds(PG.dsl(), "ref-b1", "https://idp.bank.example/realms/agents");
        String row = "tool-call-" + id;
        try (Chromium dora = Chromium.start()) {
            dora.signIn(base, "dora", SCREEN);
            assertThat(dora.waitFor(By.id(row)).getText())
                    .contains("transfer_funds")
                    .contains("payments-mcp")
                    .contains("agent-7")
                    .contains("****1234")
                    .contains("0 of 2");
            assertThat(dora.driver.findElements(By.id("decide-" + id))).isEmpty();
        }

        try (Chromium sam = Chromium.start()) {
            sam.signIn(base, "sam", SCREEN);
            sam.waitFor(By.id("reason-" + id)).sendKeys("CB-9 checked with the payments desk");
            approve(sam, id);
            sam.waitForText(By.cssSelector(".flash"), "your approval is recorded (1 of 2)");
            assertThat(sam.waitFor(By.cssSelector("#" + row + " [data-votes]")).getText())
                    .contains("1 of 2");
            assertThat(sam.seriousAccessibilityViolations()).isEmpty();
            sam.screenshot("tool-calls-one-approval");
        }

        try (Chromium tess = Chromium.start()) {
            tess.signIn(base, "tess", SCREEN);
            tess.waitFor(By.id("reason-" + id)).sendKeys("CB-9, second pair of eyes");
            approve(tess, id);
            tess.waitForText(By.cssSelector(".flash"), "Tool call " + id + " approved");
            assertThat(tess.waitFor(By.cssSelector("#decided-tool-calls #" + row))
                            .getText())
                    .contains("approved")
                    .contains("2 of 2");
            assertThat(tess.driver.findElements(By.id("held-tool-calls"))).isEmpty();
            assertThat(tess.driver.findElement(By.cssSelector(".flash")).getText())
                    .as("approvers by name, as the rest of the console shows people")
                    .contains("approved by sam and tess");
            assertThat(tess.cspViolations()).isEmpty();
            tess.screenshot("tool-calls-approved");
        }

        assertThat(console.xds()
                        .adminServices()
                        .toolCalls()
                        .get(id)
                        .orElseThrow()
                        .state())
                .isEqualTo("approved");
        Awaitility.await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(PG.dsl()
                        .fetch("select action from admin_trail where action like 'tool_call%' order by seq")
                        .getValues(0, String.class))
                .isEqualTo(List.of("tool_call_approval", "tool_call_approved")));
    }

    private static void approve(Chromium person, long id) {
        person.driver
                .findElement(By.cssSelector("#decide-" + id + " button[type=submit]:not(.secondary)"))
                .click();
    }
}
