package io.meshguard.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class that starts no server but needs more than about ten seconds of CPU (corpus and property sweeps
 * of the DLP scanner, for instance): it runs with the integration tier in {@code ./mvnw verify}, so the unit tier
 * ({@code ./mvnw test}) stays fast. Modules without test-support use {@code @Tag("slow")} directly.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag(SlowTest.TAG)
public @interface SlowTest {
    /** The JUnit tag the build's two Surefire executions select on. */
    String TAG = "slow";
}
