package io.meshguard.catalog.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReportSlotsTest {
    @Test
    void oneReportPerRequest_aSecondAskIsBusy_untilTheFirstIsDone() {
        ReportSlots slots = new ReportSlots(new ReportSlots.Limits(4, 2));
        ReportSlots.Slot first = slots.take(7, "acme");
        assertThatThrownBy(() -> slots.take(7, "acme"))
                .isInstanceOf(ReportSlots.Busy.class)
                .hasMessageContaining("request 7");
        first.close();
        slots.take(7, "acme").close();
        assertThat(slots.running()).isZero();
    }

    @Test
    void aTenantHoldsAtMostItsShare_andAnotherTenantStillGetsASlot() {
        ReportSlots slots = new ReportSlots(new ReportSlots.Limits(2, 1));
        ReportSlots.Slot acme = slots.take(1, "acme");
        assertThatThrownBy(() -> slots.take(2, "acme"))
                .isInstanceOf(ReportSlots.Busy.class)
                .hasMessageContaining("tenant acme");
        ReportSlots.Slot globex = slots.take(3, "globex");
        assertThatThrownBy(() -> slots.take(4, "initech"))
                .isInstanceOf(ReportSlots.Busy.class)
                .hasMessageContaining("the most reports at once (2)");
        acme.close();
        globex.close();
        slots.take(2, "acme").close();
        slots.take(4, "initech").close();
        assertThat(slots.running()).isZero();
    }

    @Test
    void limits_perTenantAboveTotal_refused() {
        assertThatThrownBy(() -> new ReportSlots.Limits(1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ReportSlots.Limits(0, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
