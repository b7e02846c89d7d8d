package io.meshguard.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DbSettingsTest {

    private static final String URL = "jdbc:postgresql://db.internal:5432/meshguard";

    @Test
    void of_validArguments_givesDocumentedDefaults() {
        DbSettings s = DbSettings.of(URL, "mg", "secret");

        assertThat(s.maxPoolSize()).isEqualTo(10);
        assertThat(s.minIdle()).isEqualTo(1);
        assertThat(s.connectionTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.validationTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.applicationName()).isEqualTo("meshguard");
        assertThat(s.requireDatabaseAtStart()).isFalse();
    }

    @Test
    void withers_changeOneValue_keepTheRest() {
        DbSettings s = DbSettings.of(URL, "mg", "secret")
                .withPoolSize(4, 0)
                .withApplicationName("meshguard-extauthz")
                .withRequireDatabaseAtStart(true);

        assertThat(s.maxPoolSize()).isEqualTo(4);
        assertThat(s.minIdle()).isZero();
        assertThat(s.applicationName()).isEqualTo("meshguard-extauthz");
        assertThat(s.requireDatabaseAtStart()).isTrue();
        assertThat(s.jdbcUrl()).isEqualTo(URL);
        assertThat(s.password()).isEqualTo("secret");
    }

    @Test
    void toString_neverShowsPassword() {
        DbSettings s = DbSettings.of(URL + "?password=urlsecret&ssl=true", "mg", "s3cr3t-value");

        assertThat(s.toString())
                .doesNotContain("s3cr3t-value")
                .doesNotContain("urlsecret")
                .contains("password=****")
                .contains("ssl=true");
    }

    @Test
    void constructor_nonPostgresUrl_rejectedWithClearError() {
        assertThatThrownBy(() -> DbSettings.of("jdbc:mysql://x/y?password=abc", "mg", ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("jdbc:postgresql:")
                .hasMessageNotContaining("abc");
    }

    @Test
    void constructor_blankUser_rejected() {
        assertThatThrownBy(() -> DbSettings.of(URL, " ", ""))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("user");
    }

    @Test
    void withPoolSize_minIdleAboveMax_rejected() {
        assertThatThrownBy(() -> DbSettings.of(URL, "mg", "").withPoolSize(2, 3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("minIdle");
    }

    @Test
    void withPoolSize_zeroConnections_rejected() {
        assertThatThrownBy(() -> DbSettings.of(URL, "mg", "").withPoolSize(0, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxPoolSize");
    }

    @Test
    void withConnectionTimeout_notLongerThanValidation_rejected() {
        assertThatThrownBy(() -> DbSettings.of(URL, "mg", "").withConnectionTimeout(Duration.ofSeconds(2)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("validationTimeout");
    }

    @Test
    void withConnectionTimeout_belowPoolMinimum_rejected() {
        assertThatThrownBy(() -> DbSettings.of(URL, "mg", "").withConnectionTimeout(Duration.ofMillis(100)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("connectionTimeout must be at least 250 ms");
    }

    @Test
    void withMaxLifetime_zeroMeansForever_butShortValuesRejected() {
        assertThat(DbSettings.of(URL, "mg", "").withMaxLifetime(Duration.ZERO).maxLifetime())
                .isZero();
        assertThatThrownBy(() -> DbSettings.of(URL, "mg", "").withMaxLifetime(Duration.ofSeconds(5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxLifetime");
    }

    @Test
    void withApplicationName_tooLongOrNonAscii_rejected() {
        DbSettings s = DbSettings.of(URL, "mg", "");
        assertThatThrownBy(() -> s.withApplicationName("x".repeat(64)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("applicationName");
        assertThatThrownBy(() -> s.withApplicationName("mesh\nguard")).isInstanceOf(IllegalArgumentException.class);
        assertThat(s.withApplicationName("x".repeat(63)).applicationName()).hasSize(63);
    }

    @Test
    void constructor_nullPassword_rejected() {
        assertThatThrownBy(() -> DbSettings.of(URL, "mg", null))
                .isInstanceOf(NullPointerException.class)
                .hasMessageContaining("password");
    }
}
