/**
 * The audit spool: an append-only directory of segment files that holds events while PostgreSQL is away.
 * Payload-agnostic (records are byte arrays); every record carries a CRC so torn or corrupted writes are
 * detected, skipped and counted instead of being replayed as garbage.
 */
package io.meshguard.audit.spool;
