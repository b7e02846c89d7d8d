package io.meshguard.catalogmodel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PublishHostTest {

    @Test
    void host_isProductEnvironmentRegionApiDomain() {
        assertThat(PublishHost.of("payments", Environment.DEV, "kr-seoul", "Bank.Example")
                        .name())
                .isEqualTo("payments.dev.kr-seoul.api.bank.example");
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "Payments",
                "pay.ments",
                "pay_ments",
                "-payments",
                "payments-",
                "",
                "pay ments",
                "pаyments" /* Cyrillic a */,
                "payments\n"
            })
    void productName_thatIsNotOneDnsLabel_isRefused(String product) {
        assertThatThrownBy(() -> PublishHost.of(product, Environment.PROD, "eu-west", "bank.example"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not usable in a host name");
    }

    @Test
    void domain_withEmptyLabel_isRefused() {
        assertThatThrownBy(() -> PublishHost.of("p", Environment.PROD, "eu", "bank.example."))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PublishHost.of("p", Environment.PROD, "eu", "bank..example"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
