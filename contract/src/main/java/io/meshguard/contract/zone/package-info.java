/**
 * The zone stream's messages (issue 28): what a zone controller and the central controller say to each other over
 * their one gRPC bidirectional stream, {@code meshguard.zone.v1.ZoneSync/Follow}.
 *
 * <p>Every message is an envelope carrying {@link io.meshguard.contract.zone.ZoneWire#VERSION}; a reader ignores
 * fields it does not know and refuses a major version it does not speak, so either side can be upgraded first. The
 * encoding is JSON (one message per gRPC frame): the build has no protobuf compiler offline, and these records are
 * the one definition both sides share.
 */
package io.meshguard.contract.zone;
