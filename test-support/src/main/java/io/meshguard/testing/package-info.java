/** JUnit 5 fixtures shared by every module's tests. */
package io.meshguard.testing;
