package io.meshguard.access;

/** The answer of {@link PermissionCheck}: allowed or not, why, and which role (at which scope) allowed it. */
public record Decision(boolean allowed, String reason, String roleUsed) {
    static Decision deny(String reason) {
        return new Decision(false, reason, "");
    }
}
