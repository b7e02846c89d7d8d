/**
 * The zone stream's messages (issue 28): what a zone controller and the central controller say to each other over
 * their one gRPC bidirectional stream, {@code meshguard.zone.v1.ZoneSync/Follow}.
 *
 * <p>Every message is an envelope carrying {@link io.meshguard.contract.zone.ZoneWire#VERSION}; a reader ignores
 * fields it does not know and refuses a major version it does not speak, so either side can be upgraded first. The
 * encoding is protobuf, defined in {@code src/main/proto/meshguard/zone/v1/zone.proto}; both ends program against
 * these records and {@link io.meshguard.contract.zone.ZoneCodec} maps them to the generated messages.
 */
package io.meshguard.contract.zone;
