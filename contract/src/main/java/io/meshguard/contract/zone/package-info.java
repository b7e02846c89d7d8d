/**
 * The zone stream: what a zone controller and the central controller say to each other over their one gRPC
 * bidirectional stream, {@code meshguard.zone.v1.ZoneSync/Follow}.
 *
 * <p>The messages are those generated from {@code src/main/proto/meshguard/zone/v1/zone.proto}
 * ({@link io.meshguard.contract.zone.v1.ZoneProto}); both ends read and write them directly, so the contract is spelled
 * once. Every message is an envelope carrying {@link io.meshguard.contract.zone.ZoneWire#VERSION}; a reader ignores
 * fields it does not know and refuses a major version it does not speak, so either side can be upgraded first.
 */
package io.meshguard.contract.zone;
