/** Audit events: model, batched writer with on-disk spool, partition maintenance, Envoy access-log receiver. */
package io.meshguard.audit;
