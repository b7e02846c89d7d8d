package io.meshguard.audit.spool;

import java.nio.file.Path;

/** A sealed segment handed out for replay; give it back with {@link Spool#delete} or {@link Spool#release}. */
public record SpoolSegment(long sequence, Path file) {}
