package io.meshguard.runtime.policy;

/** What one reload attempt did. */
public enum ReloadOutcome {
    /** New files were valid and are now in force. */
    LOADED,
    /** The files are the ones in force; nothing to do. */
    UNCHANGED,
    /** The files are rejected by the parser (counted and logged once per content); the running policy stays. */
    INVALID,
    /** The files could not be read (missing, unreadable, not UTF-8); the running policy stays. */
    UNREADABLE
}
