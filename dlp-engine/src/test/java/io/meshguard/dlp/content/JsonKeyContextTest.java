package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.dlp.scan.KeyContext;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A JSON key is context for its value: spelled any way, escaped, split across chunks; only for its own value. */
class JsonKeyContextTest {
    private static final Bodies.Factory JSON = JsonTransformer::new;
    /** Eleven bare digits: a phone number only with a word such as "phone" nearby. */
    private static final String PHONE = "01012345678";
    /** A token that is a secret only with a word such as "password" or "api_key" nearby. */
    private static final String TOKEN = "q8ZrT3vLx9WmN2pKa7Yc";

    private static String redact(String in) {
        return Bodies.whole(JSON, ActionKind.REDACT, in).text();
    }

    @Test
    void keyNamingThePhone_makesBareDigitsAPhoneNumber_anUnrelatedKeyDoesNot() {
        assertThat(redact("{\"phone\": \"" + PHONE + "\"}")).isEqualTo("{\"phone\": \"[REDACTED:kr_phone]\"}");
        assertThat(redact("{\"sku\": \"" + PHONE + "\"}")).isEqualTo("{\"sku\": \"" + PHONE + "\"}");
    }

    @Test
    void keySpellings_case_snake_camel_kebab_andEscapes_allCount() {
        for (String key : new String[] {
            "Phone",
            "PHONE",
            "phoneNumber",
            "phone_number",
            "mobile-phone",
            "contactPhone",
            "PhoneNo",
            "\\u0070hone",
            "ph\\u006Fne",
            "user.phone"
        }) {
            assertThat(redact("{\"" + key + "\":\"" + PHONE + "\"}"))
                    .as(key)
                    .isEqualTo("{\"" + key + "\":\"[REDACTED:kr_phone]\"}");
        }
        // a word inside another word is no context: "telephone" has no word "phone", "iphone_model" neither
        assertThat(redact("{\"iphonemodel\":\"" + PHONE + "\"}")).contains(PHONE);
    }

    @Test
    void secretStyleKeys_makeATokenASecret() {
        for (String key : new String[] {
            "password",
            "api_key",
            "apiKey",
            "APIKey",
            "x-api-key",
            "API_KEY",
            "client_secret",
            "secretKey",
            "accessToken",
            "db_passwd",
            "비밀번호"
        }) {
            assertThat(redact("{\"" + key + "\": \"" + TOKEN + "\"}"))
                    .as(key)
                    .isEqualTo("{\"" + key + "\": \"[REDACTED:secret]\"}");
        }
        assertThat(redact("{\"request_id\": \"" + TOKEN + "\"}")).contains(TOKEN);
    }

    @Test
    void keyIsContextForNumbersAndArrayElementsUnderIt_notForOtherMembers() {
        assertThat(redact("{\"phone\": [\"" + PHONE + "\", \"" + PHONE + "\"]}"))
                .isEqualTo("{\"phone\": [\"[REDACTED:kr_phone]\", \"[REDACTED:kr_phone]\"]}");
        // a plural is another word: "phones" is no context (words match whole, as in text)
        assertThat(redact("{\"phones\": [\"" + PHONE + "\"]}")).contains(PHONE);
        // a number under a key: the key is its context too (a card as a JSON number under "order_id" is labelled)
        assertThat(redact("{\"order_id\": 4532015112830366}")).isEqualTo("{\"order_id\": 4532015112830366}");
        assertThat(redact("{\"n\": 4532015112830366}")).isEqualTo("{\"n\": \"[REDACTED:card]\"}");
        assertThat(redact("{\"phone\": \"x\", \"count\": \"" + PHONE + "\"}")).contains(PHONE);
        assertThat(redact("{\"phone\": {\"id\": \"" + PHONE + "\"}}")).contains(PHONE);
    }

    @Test
    void keyCountsOnlyWhileTheWindowReachesTheValueStart() {
        // the value's own line break ends the window, as in text
        assertThat(redact("{\"phone\": \"call\\n" + PHONE + "\"}")).contains(PHONE);
        assertThat(redact("{\"phone\": \"call " + PHONE + "\"}")).doesNotContain(PHONE);
        String far = "x".repeat(40) + " ";
        assertThat(redact("{\"phone\": \"" + far + PHONE + "\"}")).contains(PHONE);
    }

    @Test
    void negativeKeyIsALabel_onlyForAValueThatStartsWithTheNumber() {
        // "order_id" right before a checksum-valid card is a structured label: it lowers the masked card
        String card = "4532015112830366";
        assertThat(redact("{\"order_id\": \"" + card + "\"}")).contains(card);
        // a card later in a value under that key is not labelled by it: still masked
        assertThat(redact("{\"order_id\": \"ref " + card + "\"}")).doesNotContain(card);
        assertThat(redact("{\"card_number\": \"" + card + "\"}")).doesNotContain(card);
    }

    @Test
    void keySplitAcrossEveryChunkBoundary_givesTheSameOutput() {
        String in = "{\"customer\":{\"Mobile\\u005fPhone\":\"" + PHONE + "\",\"apiKey\":\"" + TOKEN + "\",\"sku\":\""
                + PHONE + "\"}}";
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        Bodies.Result whole = Bodies.whole(JSON, ActionKind.REDACT, in);
        assertThat(whole.text())
                .isEqualTo("{\"customer\":{\"Mobile\\u005fPhone\":\"[REDACTED:kr_phone]\",\"apiKey\":"
                        + "\"[REDACTED:secret]\",\"sku\":\"" + PHONE + "\"}}");
        for (int max = 1; max < 8; max++) {
            Bodies.Result r = Bodies.run(JSON, Bodies.rules(ActionKind.REDACT), b, new Random(max), max);
            assertThat(r.text()).isEqualTo(whole.text());
            assertThat(r.findings()).isEqualTo(whole.findings());
        }
    }

    @Test
    void oversizedKey_givesNoContext_andShowsAsStar() {
        String key = "phone_" + "x".repeat(KeyContext.MAX_KEY_BYTES);
        Bodies.Result r = Bodies.whole(
                JSON, ActionKind.REDACT, "{\"" + key + "\":\"" + PHONE + "\",\"card\":\"" + "4532015112830366\"}");
        assertThat(r.text()).contains(PHONE);
        assertThat(r.findings()).containsExactly("card@/card");
        Bodies.Result big = Bodies.whole(JSON, ActionKind.REDACT, "{\"" + key + "\":{\"n\":\"4532015112830366\"}}");
        assertThat(big.findings()).containsExactly("card@/*/n");
    }

    @Test
    void keyWords_readEverySpelling_asLowerCaseWords() {
        assertThat(words("cardNumber")).isEqualTo("card number");
        assertThat(words("APIKey")).isEqualTo("api key");
        assertThat(words("x-api-key")).isEqualTo("x api key");
        assertThat(words("__Card__NUMBER__")).isEqualTo("card number");
        assertThat(words("주민번호")).isEqualTo("주민번호");
        assertThat(words("k".repeat(KeyContext.MAX_KEY_BYTES + 1))).isEmpty();
    }

    private static String words(String key) {
        return new String(KeyContext.words(key), StandardCharsets.UTF_8);
    }
}
