/**
 * The audit log as one startable part for a server: the {@code audit.*} configuration keys, the settings they become,
 * and the component that starts the writer, partition maintenance and the access-log receiver. It sits above every
 * other package of the module; nothing below it knows it.
 */
package io.meshguard.audit.component;
