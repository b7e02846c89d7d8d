package io.meshguard.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads a tar archive entry by entry (POSIX ustar with the pax extended headers Jib writes for long names, and GNU
 * long names), so the image test needs neither a tar binary's output format nor another library.
 */
final class TarStream {
    /** One entry's header; {@code type} is the tar type flag ('0' file, '5' directory, '2' symlink, '1' hard link). */
    record Entry(String path, int mode, int uid, int gid, char type, String linkTarget, long size) {
        boolean isFile() {
            return type == '0' || type == '\0' || type == '7';
        }

        boolean isDirectory() {
            return type == '5';
        }
    }

    /** Called once per entry; {@code content} yields the entry's bytes (empty for all but files) and is bounded. */
    interface Visitor {
        void entry(Entry entry, InputStream content) throws IOException;
    }

    private TarStream() {}

    static void read(InputStream in, Visitor visitor) throws IOException {
        byte[] header = new byte[512];
        Map<String, String> pax = new HashMap<>();
        String longName = null;
        while (readFully(in, header)) {
            if (isZero(header)) {
                return;
            }
            char type = (char) header[156];
            long size = octal(header, 124, 12);
            if (type == 'x' || type == 'L') {
                byte[] data = in.readNBytes((int) size);
                skip(in, padding(size));
                if (type == 'x') {
                    pax.putAll(paxRecords(data));
                } else {
                    longName = new String(data, StandardCharsets.UTF_8).replace("\0", "");
                }
                continue;
            }
            if (type == 'g') {
                skip(in, size + padding(size));
                continue;
            }
            String prefix = text(header, 345, 155);
            String name = prefix.isEmpty() ? text(header, 0, 100) : prefix + "/" + text(header, 0, 100);
            String path = pax.getOrDefault("path", longName != null ? longName : name);
            String link = pax.getOrDefault("linkpath", text(header, 157, 100));
            if (pax.containsKey("size")) {
                size = Long.parseLong(pax.get("size"));
            }
            Entry entry = new Entry(
                    path,
                    (int) octal(header, 100, 8),
                    (int) octal(header, 108, 8),
                    (int) octal(header, 116, 8),
                    type,
                    link,
                    size);
            BoundedStream content = new BoundedStream(in, size);
            visitor.entry(entry, content);
            content.drain();
            skip(in, padding(size));
            pax.clear();
            longName = null;
        }
    }

    private static Map<String, String> paxRecords(byte[] data) {
        Map<String, String> records = new HashMap<>();
        int i = 0;
        while (i < data.length) {
            int space = i;
            while (data[space] != ' ') {
                space++;
            }
            int length = Integer.parseInt(new String(data, i, space - i, StandardCharsets.US_ASCII));
            String record = new String(data, space + 1, length - (space - i) - 2, StandardCharsets.UTF_8);
            int eq = record.indexOf('=');
            records.put(record.substring(0, eq), record.substring(eq + 1));
            i += length;
        }
        return records;
    }

    private static boolean readFully(InputStream in, byte[] block) throws IOException {
        int n = in.readNBytes(block, 0, block.length);
        if (n == 0) {
            return false;
        }
        if (n < block.length) {
            throw new IOException("truncated tar header");
        }
        return true;
    }

    private static boolean isZero(byte[] block) {
        for (byte b : block) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private static long padding(long size) {
        return (512 - size % 512) % 512;
    }

    private static void skip(InputStream in, long n) throws IOException {
        in.skipNBytes(n);
    }

    private static String text(byte[] header, int offset, int length) {
        int end = offset;
        while (end < offset + length && header[end] != 0) {
            end++;
        }
        return new String(header, offset, end - offset, StandardCharsets.UTF_8);
    }

    private static long octal(byte[] header, int offset, int length) {
        String s = text(header, offset, length).trim();
        return s.isEmpty() ? 0 : Long.parseLong(s, 8);
    }

    /** The content of one entry: reads stop at its size; what the visitor leaves unread is skipped. */
    private static final class BoundedStream extends InputStream {
        private final InputStream in;
        private long left;

        BoundedStream(InputStream in, long size) {
            this.in = in;
            this.left = size;
        }

        @Override
        public int read() throws IOException {
            if (left == 0) {
                return -1;
            }
            int b = in.read();
            if (b >= 0) {
                left--;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left == 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }

        void drain() throws IOException {
            in.skipNBytes(left);
            left = 0;
        }

        @Override
        public void close() {
            // the archive stream stays open for the next entry
        }
    }
}
