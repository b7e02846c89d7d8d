package io.meshguard.audit.trail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The directory trail checkpoints are appended to, outside the database: one file per UTC day and writer
 * ({@code admin-trail-checkpoints-YYYY-MM-DD-INSTANCE.jsonl}), one checkpoint per line, opened for appending only and
 * forced to disk after each line. Give it a volume only the controller can write (the database role never can).
 */
public final class CheckpointDirectory implements AutoCloseable {
    private static final String PREFIX = "admin-trail-checkpoints-";

    /** What is in a directory: the checkpoints, and every line that is not one (file:line and why). */
    public record Contents(List<TrailCheckpoint> checkpoints, List<String> unreadable) {}

    private final Path dir;
    private final String instance;
    private FileChannel open;
    private LocalDate openDay;

    /** @param instance this writer's name in the file names (the pod or host), so replicas never share a file */
    public CheckpointDirectory(Path dir, String instance) {
        this.dir = dir;
        this.instance = instance.replaceAll("[^A-Za-z0-9._-]", "_");
    }

    /** Appends {@code c} as one line and forces it to disk before returning. */
    public synchronized void append(TrailCheckpoint c) throws IOException {
        LocalDate day = LocalDate.ofInstant(c.signedAt(), ZoneOffset.UTC);
        if (open == null || !day.equals(openDay)) {
            close();
            Files.createDirectories(dir);
            open = FileChannel.open(
                    dir.resolve(PREFIX + day + "-" + instance + ".jsonl"),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND,
                    StandardOpenOption.WRITE);
            openDay = day;
        }
        ByteBuffer line = ByteBuffer.wrap((c.toJsonLine() + "\n").getBytes(StandardCharsets.UTF_8));
        while (line.hasRemaining()) {
            open.write(line);
        }
        open.force(false);
    }

    /**
     * Every checkpoint in this directory's files (none before the first is written), read under the lock appends take,
     * so no line of this writer is read half-written.
     */
    public synchronized Contents contents() throws IOException {
        if (!Files.isDirectory(dir)) {
            return new Contents(List.of(), List.of());
        }
        return read(dir);
    }

    /** Every checkpoint in {@code dir}'s files, in file and line order. */
    public static Contents read(Path dir) throws IOException {
        List<TrailCheckpoint> out = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().startsWith(PREFIX))
                    .sorted()
                    .toList();
        }
        for (Path f : files) {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).isBlank()) {
                    continue;
                }
                try {
                    out.add(TrailCheckpoint.parse(lines.get(i)));
                } catch (IllegalArgumentException e) {
                    bad.add(f.getFileName() + ":" + (i + 1) + ": " + e.getMessage());
                }
            }
        }
        return new Contents(out, bad);
    }

    @Override
    public synchronized void close() throws IOException {
        if (open != null) {
            open.close();
            open = null;
        }
    }
}
