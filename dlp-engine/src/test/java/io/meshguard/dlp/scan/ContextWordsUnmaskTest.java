package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.Checksums;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Context words: a word the sender chooses near a checksum-valid number must not switch masking or
 * blocking off (only a structured label right before it may), and context windows stop at line and JSON value
 * boundaries. Every case is scanned whole and in random chunks (the answer may not depend on the split).
 */
class ContextWordsUnmaskTest {
    /** A Luhn-valid Visa number that is no published test number (so no allow-list hides it). */
    static final String CARD = "4532015112830366";

    private static String scan(ActionKind action, String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        ScanRules rules = Scans.allBuiltins(action);
        byte[] whole = Scans.whole(rules, in).bytes();
        Random random = new Random(23);
        for (int round = 0; round < 20; round++) {
            assertThat(Scans.chunked(rules, in, random, 1 + round).bytes()).isEqualTo(whole);
        }
        return new String(whole, StandardCharsets.UTF_8);
    }

    @Test
    void card_theSampleIsLuhnValid() {
        assertThat(Checksums.luhn(CARD)).isTrue();
        assertThat(Checksums.cardBrand(CARD)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "order %s",
                "Order %s",
                "imei %s",
                "IMEI: no, it is %s",
                "tracking %s",
                "송장 %s",
                "isbn %s",
                "invoice %s",
                "serial %s",
                "주문번호 %s",
                "운송장 %s",
                "order\n%s",
                "%s order",
                "%s\ntracking",
                "your order is %s",
                "order # is really %s",
                "order-%s"
            })
    void negativeWord_nearValidCard_neverUnmasks(String template) {
        String out = scan(ActionKind.REDACT, template.formatted(CARD));
        assertThat(out).doesNotContain(CARD).contains("[REDACTED:card]");
    }

    @Test
    void negativeWord_nearValidCard_stillBlocks() {
        byte[] in = ("order " + CARD).getBytes(StandardCharsets.UTF_8);
        assertThat(Scans.whole(Scans.allBuiltins(ActionKind.BLOCK), in).blockedBy())
                .isPresent();
    }

    @Test
    void negativeWord_nearValidCard_lowersAnAlert() {
        byte[] in = ("IMEI " + CARD).getBytes(StandardCharsets.UTF_8);
        assertThat(Scans.whole(Scans.allBuiltins(ActionKind.ALERT), in).findings())
                .isEmpty();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "Order ID: %s",
                "order_id: %s",
                "IMEI: %s",
                "Tracking No. # %s",
                "{\"order_id\": \"%s\"}",
                "{\"order_id\":%s}",
                "송장번호: %s",
                "invoice=%s",
                "'order': '%s'"
            })
    void structuredLabel_directlyBefore_lowersTheCard(String template) {
        String text = template.formatted(CARD);
        assertThat(scan(ActionKind.REDACT, text)).isEqualTo(text);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "Order ID: see below %s",
                "Order ID:\n%s",
                "card for order: x %s",
                "{\"order_id\": 1, \"pan\": \"%s\"}"
            })
    void structuredLabel_notDirectlyBefore_doesNotLower(String template) {
        assertThat(scan(ActionKind.REDACT, template.formatted(CARD))).doesNotContain(CARD);
    }

    @Test
    void phoneWord_onThePreviousLine_doesNotMaskAnOrderId() {
        // Eleven digits without separators are a phone number only with a word like "phone" in the window.
        assertThat(scan(ActionKind.REDACT, "phone 01012345678")).doesNotContain("01012345678");
        String text = "Call the phone desk.\n01012345678 is your order id";
        assertThat(scan(ActionKind.REDACT, text)).isEqualTo(text);
        String previousLine = "phone\n01012345678";
        assertThat(scan(ActionKind.REDACT, previousLine)).isEqualTo(previousLine);
    }

    @Test
    void jsonKey_ofAnotherMember_isNotContext() {
        String text = "{\"phone\": \"none\", \"order\": \"01012345678\"}";
        assertThat(scan(ActionKind.REDACT, text)).isEqualTo(text);
        String own = "{\"phone\": \"01012345678\"}";
        assertThat(scan(ActionKind.REDACT, own)).doesNotContain("01012345678");
    }
}
