package io.meshguard.dlp.scan;

/**
 * A decided finding. Carries no raw value: only where, how long, how sure, what was done, and a keyed hash of the
 * value (HMAC-SHA256 with the tenant's key, hex) so repeated leaks of the same value can be correlated.
 *
 * @param detector detector name
 * @param action action taken
 * @param start absolute start offset in the scanned text
 * @param end absolute end offset (exclusive)
 * @param confidence final confidence
 * @param valueHmac hex HMAC of the value
 */
public record Finding(String detector, ActionKind action, long start, long end, double confidence,
        String valueHmac) {
    public long length() {
        return end - start;
    }
}
