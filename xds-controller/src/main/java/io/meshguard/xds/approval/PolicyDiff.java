package io.meshguard.xds.approval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The line differences between the approved policy files and the requested ones, in unified form ({@code --- a/authz.yaml},
 * {@code +++ b/authz.yaml}, hunks of {@code -}/{@code +} lines with three lines of context): what the approver reads.
 */
public final class PolicyDiff {
    /** Lines of unchanged context around each change. */
    static final int CONTEXT = 3;
    /** Beyond this many lines per file the diff names the file as replaced (the table would be too large). */
    static final int MAX_LINES = 20_000;

    private PolicyDiff() {}

    /** The unified diff of {@code requested} against {@code base} (empty base: every file is new). */
    public static String unified(Optional<PolicyBundle> base, PolicyBundle requested) {
        Map<String, String> before = texts(base);
        Map<String, String> after = texts(Optional.of(requested));
        List<String> names = new ArrayList<>(before.keySet());
        after.keySet().stream().filter(n -> !before.containsKey(n)).forEach(names::add);
        StringBuilder out = new StringBuilder();
        for (String name : names) {
            String a = before.getOrDefault(name, "");
            String b = after.getOrDefault(name, "");
            if (a.equals(b)) {
                continue;
            }
            out.append("--- ")
                    .append(before.containsKey(name) ? "a/" + name : "/dev/null")
                    .append('\n');
            out.append("+++ ")
                    .append(after.containsKey(name) ? "b/" + name : "/dev/null")
                    .append('\n');
            file(lines(a), lines(b), out);
        }
        return out.toString();
    }

    private static Map<String, String> texts(Optional<PolicyBundle> bundle) {
        Map<String, String> out = new LinkedHashMap<>();
        bundle.ifPresent(b -> b.files().forEach(f -> out.put(f.fileName(), f.text())));
        return out;
    }

    private static List<String> lines(String text) {
        // a file's last newline ends its last line; it does not start another one
        String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        return text.isEmpty() ? List.of() : List.of(body.split("\n", -1));
    }

    private static void file(List<String> a, List<String> b, StringBuilder out) {
        if (a.size() > MAX_LINES || b.size() > MAX_LINES) {
            out.append("@@ the file is replaced (")
                    .append(a.size())
                    .append(" -> ")
                    .append(b.size());
            out.append(" lines, too large to diff line by line) @@\n");
            return;
        }
        // longest common subsequence, then one edit script of ' ', '-', '+' lines
        int[][] lcs = new int[a.size() + 1][b.size() + 1];
        for (int i = a.size() - 1; i >= 0; i--) {
            for (int j = b.size() - 1; j >= 0; j--) {
                lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        record Line(char op, String text, int oldNo, int newNo) {}
        List<Line> script = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < a.size() || j < b.size()) {
            if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
                script.add(new Line(' ', a.get(i), i++, j++));
            } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
                // removals before additions, as diff -u shows a changed line
                script.add(new Line('-', a.get(i), i++, j));
            } else {
                script.add(new Line('+', b.get(j), i, j++));
            }
        }
        int k = 0;
        while (k < script.size()) {
            if (script.get(k).op() == ' ') {
                k++;
                continue;
            }
            int start = Math.max(0, k - CONTEXT);
            int end = k;
            // extend the hunk while the next change is within twice the context
            int quiet = 0;
            while (end < script.size() && quiet <= 2 * CONTEXT) {
                quiet = script.get(end).op() == ' ' ? quiet + 1 : 0;
                end++;
            }
            end = Math.min(script.size(), end - Math.max(0, quiet - CONTEXT));
            int oldCount = 0;
            int newCount = 0;
            for (int x = start; x < end; x++) {
                oldCount += script.get(x).op() != '+' ? 1 : 0;
                newCount += script.get(x).op() != '-' ? 1 : 0;
            }
            out.append("@@ -")
                    .append(script.get(start).oldNo() + 1)
                    .append(',')
                    .append(oldCount)
                    .append(" +")
                    .append(script.get(start).newNo() + 1)
                    .append(',')
                    .append(newCount)
                    .append(" @@\n");
            for (int x = start; x < end; x++) {
                out.append(script.get(x).op()).append(script.get(x).text()).append('\n');
            }
            k = end;
        }
    }
}
