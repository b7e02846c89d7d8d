package io.meshguard.runtime.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigTypeTest {

    @Test
    void duration_acceptsUnitsAndFormatsBack() {
        ConfigType<Duration> type = ConfigType.duration();

        assertThat(type.parse("300ms")).isEqualTo(Duration.ofMillis(300));
        assertThat(type.parse("5s")).isEqualTo(Duration.ofSeconds(5));
        assertThat(type.parse("2m")).isEqualTo(Duration.ofMinutes(2));
        assertThat(type.parse("1h")).isEqualTo(Duration.ofHours(1));
        assertThat(type.parse("1d")).isEqualTo(Duration.ofDays(1));
        assertThat(type.parse("0")).isEqualTo(Duration.ZERO);
        assertThat(type.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
        assertThat(type.format(Duration.ofSeconds(120))).isEqualTo("2m");
    }

    @Test
    void duration_withoutUnit_isRejected() {
        assertThatThrownBy(() -> ConfigType.duration().parse("30"))
                .hasMessage("expected a duration such as 300ms, 5s, 2m, 1h or 1d, found '30'");
        assertThatThrownBy(() -> ConfigType.duration().parse("-5s")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ConfigType.duration().parse("99999999999999999999d"))
                .hasMessageContaining("too large");
    }

    @Test
    void byteSize_acceptsBinaryAndDecimalUnits() {
        ConfigType<Long> type = ConfigType.byteSize(0, Long.MAX_VALUE);

        assertThat(type.parse("4MiB")).isEqualTo(4L * 1024 * 1024);
        assertThat(type.parse("512KiB")).isEqualTo(512L * 1024);
        assertThat(type.parse("1gib")).isEqualTo(1L << 30);
        assertThat(type.parse("10MB")).isEqualTo(10_000_000L);
        assertThat(type.parse("4096")).isEqualTo(4096L);
        assertThat(type.format(4L << 20)).isEqualTo("4MiB");
        assertThat(type.format(1000L)).isEqualTo("1000");
    }

    @Test
    void integer_rangeIsEnforced() {
        assertThat(ConfigType.integer(1, 10).parse("+7")).isEqualTo(7);
        assertThatThrownBy(() -> ConfigType.integer(1, 10).parse("0"))
                .hasMessage("expected an integer between 1 and 10, found 0");
        assertThatThrownBy(() -> ConfigType.integer(1, Integer.MAX_VALUE).parse("x"))
                .hasMessage("expected an integer of at least 1, found 'x'");
        assertThatThrownBy(() -> ConfigType.longInteger(0, Long.MAX_VALUE).parse("99999999999999999999"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void oneOf_isCaseInsensitiveAndReturnsCanonicalSpelling() {
        assertThat(ConfigType.oneOf(List.of("json", "text")).parse("TEXT")).isEqualTo("text");
    }

    @Test
    void optional_absentWordOrEmpty_isEmpty() {
        ConfigType<Optional<Duration>> type = ConfigType.optional(ConfigType.duration(), "off");

        assertThat(type.parse("off")).isEmpty();
        assertThat(type.parse("")).isEmpty();
        assertThat(type.parse("10s")).contains(Duration.ofSeconds(10));
        assertThat(type.format(Optional.empty())).isEqualTo("off");
        assertThat(type.expected()).endsWith(" or off");
    }

    @Test
    void path_blank_isRejected() {
        assertThatThrownBy(() -> ConfigType.path().parse(" ")).hasMessageContaining("expected a file system path");
        assertThatThrownBy(() -> ConfigType.path().parse("a\0b")).hasMessageContaining("not a valid path");
    }
}
