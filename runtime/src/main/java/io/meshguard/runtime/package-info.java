/** Shared server runtime. */
package io.meshguard.runtime;
