package io.meshguard.testing;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;

/**
 * Marks a test class of the integration tier: it starts a server (PostgreSQL, Redis, Keycloak, a browser, a gRPC or
 * HTTP listener) or a process. {@code ./mvnw test} runs the unit tier without these; {@code ./mvnw verify} runs them in
 * the integration-test phase. Modules without test-support use {@code @Tag("integration")} directly.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@Tag(IntegrationTest.TAG)
public @interface IntegrationTest {
    /** The JUnit tag the build's two Surefire executions select on. */
    String TAG = "integration";
}
