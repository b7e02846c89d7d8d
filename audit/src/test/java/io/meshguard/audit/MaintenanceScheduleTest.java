package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MaintenanceScheduleTest {
    @Test
    void failedRun_isReported_andRetriedAfterTheShorterOfIntervalAndFiveMinutes() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch thirdRun = new CountDownLatch(3);
        List<Duration> retries = new CopyOnWriteArrayList<>();
        try (MaintenanceSchedule schedule = new MaintenanceSchedule(
                "test-maintenance",
                () -> {
                    thirdRun.countDown();
                    if (runs.incrementAndGet() == 1) {
                        throw new java.sql.SQLException("database away", "08006");
                    }
                },
                (e, retryIn) -> retries.add(retryIn))) {
            schedule.start(Duration.ofMillis(20));
            assertThat(thirdRun.await(30, TimeUnit.SECONDS))
                    .as("runs go on after a failure")
                    .isTrue();
        }
        assertThat(retries).containsExactly(Duration.ofMillis(20));
        assertThat(MaintenanceSchedule.RETRY_AFTER_FAILURE).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void startedSchedule_cannotStartTwice() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch first = new CountDownLatch(1);
        MaintenanceSchedule schedule = new MaintenanceSchedule(
                "test-maintenance",
                () -> {
                    runs.incrementAndGet();
                    first.countDown();
                },
                (e, retryIn) -> {});
        schedule.start(Duration.ofHours(1));
        assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> schedule.start(Duration.ofHours(1)))
                .isInstanceOf(IllegalStateException.class);
        schedule.close();
    }
}
