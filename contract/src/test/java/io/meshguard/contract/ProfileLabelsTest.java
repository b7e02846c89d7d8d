package io.meshguard.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProfileLabelsTest {
    @Test
    void label_keepsAPlainName() {
        assertThat(new ProfileLabels(4).label("payments-write.v2_x")).isEqualTo("payments-write.v2_x");
    }

    @Test
    void label_escapesEveryCharacterOutsideTheSafeSet() {
        assertThat(ProfileLabels.escape("a b\"c\n{d}\u00e9/\u202e")).isEqualTo("a_b_c__d____");
        assertThat(ProfileLabels.escape("")).isEqualTo(ProfileLabels.EMPTY);
    }

    @Test
    void label_cutsLongNames() {
        assertThat(ProfileLabels.escape("x".repeat(500))).hasSize(ProfileLabels.MAX_LENGTH);
        assertThat(ProfileLabels.escape("\u00e9".repeat(500))).isEqualTo("_".repeat(ProfileLabels.MAX_LENGTH));
    }

    @Test
    void label_afterCapacity_newNamesShareOneLabel_knownNamesKeepTheirs() {
        ProfileLabels labels = new ProfileLabels(2);
        assertThat(labels.label("a")).isEqualTo("a");
        assertThat(labels.label("b")).isEqualTo("b");
        assertThat(labels.label("c")).isEqualTo(ProfileLabels.OTHER);
        assertThat(labels.label("d")).isEqualTo(ProfileLabels.OTHER);
        assertThat(labels.label("a")).isEqualTo("a");
    }
}
