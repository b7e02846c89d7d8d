package io.meshguard.dlp.scan;

import com.google.re2j.Pattern;
import io.meshguard.dlp.detect.BuiltinDetector;
import io.meshguard.dlp.detect.BuiltinRecognizer;
import io.meshguard.dlp.detect.JwkTextRecognizer;
import io.meshguard.dlp.detect.KeywordRecognizer;
import io.meshguard.dlp.detect.PatternBounds;
import io.meshguard.dlp.detect.Recognizer;
import io.meshguard.dlp.detect.RegexRecognizer;
import io.meshguard.dlp.detect.StartTable;
import io.meshguard.dlp.detect.TriggerTable;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The detectors one scan runs, with their actions for one direction, compiled once per policy and shared by every
 * stream; {@link #newRecognizers()} gives each stream its own stateful recognizers.
 */
public final class ScanRules {
    /** A policy-defined pattern detector. */
    public record RegexSpec(
            Pattern pattern, PatternBounds.Shape shape, double confidence, RegexRecognizer.Validator validator) {}

    /** A policy-defined keyword list. */
    public record KeywordSpec(List<String> keywords, double confidence) {}

    private final List<DetectorRule> rules = new ArrayList<>();
    private final Map<BuiltinDetector, Integer> builtins = new EnumMap<>(BuiltinDetector.class);
    private final Map<Integer, RegexSpec> regexes = new java.util.LinkedHashMap<>();
    private final Map<Integer, KeywordSpec> keywords = new java.util.LinkedHashMap<>();
    private int maxContextChars;
    /** Rule indexes whose findings carry a check digit (Luhn, mod 97, the business-number digit). */
    private final java.util.Set<Integer> checksummed = new java.util.HashSet<>();

    public ScanRules addBuiltin(BuiltinDetector d, DetectorRule rule) {
        int index = add(rule);
        builtins.put(d, index);
        if (d == BuiltinDetector.CARD || d == BuiltinDetector.IBAN || d == BuiltinDetector.KR_BRN) {
            checksummed.add(index);
        }
        return this;
    }

    public ScanRules addRegex(RegexSpec spec, DetectorRule rule) {
        int index = add(rule);
        regexes.put(index, spec);
        if (spec.validator() == RegexRecognizer.Validator.LUHN
                || spec.validator() == RegexRecognizer.Validator.IBAN
                || spec.validator() == RegexRecognizer.Validator.KR_BRN) {
            checksummed.add(index);
        }
        return this;
    }

    public ScanRules addKeywords(KeywordSpec spec, DetectorRule rule) {
        keywords.put(add(rule), spec);
        return this;
    }

    private int add(DetectorRule rule) {
        rules.add(rule);
        compiled = null;
        maxContextChars = Math.max(maxContextChars, rule.context().within());
        return rules.size() - 1;
    }

    /** The context words of every rule, compiled. */
    ContextWords contextWords() {
        return compiled().contextWords();
    }

    /** Each rule's replacement builder, by rule index; compiled once and shared by every stream. */
    Replacements[] replacements() {
        return compiled().replacements();
    }

    /** Each rule by index; shared, never written. */
    DetectorRule[] ruleArray() {
        return compiled().rules();
    }

    /** Each rule's allow-list for one stream, over the lists compiled once for this rule set. */
    AllowList[] newAllowLists() {
        AllowList[] c = compiled().allowLists();
        AllowList[] out = new AllowList[c.length];
        for (int k = 0; k < out.length; k++) {
            out[k] = c[k].newStream();
        }
        return out;
    }

    /** The built-in detector {@code d} as a {@link ValueRule}, when this scan runs it. */
    public Optional<ValueRule> valueRule(BuiltinDetector d) {
        Integer index = builtins.get(d);
        return index == null ? Optional.empty() : Optional.of(new ValueRule(rules.get(index)));
    }

    /** Whether a key gives any rule context ({@link KeyContext}): a value's scan then depends on its key. */
    public boolean keyIsContext(String key) {
        for (int flags : compiled().contextWords().keyFlags(KeyContext.words(key))) {
            if (flags != 0) {
                return true;
            }
        }
        return false;
    }

    public List<DetectorRule> rules() {
        return List.copyOf(rules);
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /**
     * Per rule index: whether its findings passed a check digit, so that negative context words may not drop them
     * when they mask or block (see {@link StreamScanner}).
     */
    boolean[] checksummedArray() {
        boolean[] out = new boolean[rules.size()];
        checksummed.forEach(i -> out[i] = true);
        return out;
    }

    int maxContextChars() {
        return maxContextChars;
    }

    /**
     * Everything worked out from the rules once, for every stream to share: nothing in it is written after it is
     * built. The recognizers are never scanned with themselves (only their stateless mayFind is called).
     */
    private record Compiled(
            List<Recognizer> recognizers,
            TriggerTable triggers,
            ContextWords contextWords,
            Replacements[] replacements,
            AllowList[] allowLists,
            DetectorRule[] rules,
            NumberTest numbers,
            StartTable starts) {}

    /**
     * {@link #mayFindNumber}'s shortcut: the built-in recognizer (null without one) and the bytes of a JSON number at
     * which the other recognizers' trigger table may say true.
     */
    private record NumberTest(Recognizer builtin, boolean[] othersTrigger) {
        static NumberTest of(List<Recognizer> recognizers) {
            boolean[] numberBytes = new boolean[256];
            for (char c : "0123456789+-.eE".toCharArray()) {
                numberBytes[c] = true;
            }
            Recognizer builtin = recognizers.stream()
                    .filter(r -> r instanceof BuiltinRecognizer)
                    .findFirst()
                    .orElse(null);
            List<Recognizer> others =
                    recognizers.stream().filter(r -> r != builtin).toList();
            return new NumberTest(builtin, TriggerTable.of(others).triggersWithin(numberBytes));
        }
    }

    private volatile Compiled compiled;

    /**
     * Whether {@code b[off, off + len)}, scanned as one complete text, could hold a finding. False is certain: no
     * recognizer could report anything in it (lower-case prose and Korean text without digits, keywords or pattern
     * starts), so callers with many short texts (JSON keys and values, numbers) pass those through without a scan.
     */
    public boolean mayFind(byte[] b, int off, int len) {
        Compiled c = compiled();
        // one pass for every recognizer first: most JSON keys and values stop here
        if (!c.triggers().mayFind(b, off, len)) {
            return false;
        }
        for (Recognizer r : c.recognizers()) {
            if (r.mayFind(b, off, len)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@link #mayFind} of a JSON number ({@code b[off, off + len)} holds only {@code 0-9 + - . e E}), answered by the
     * built-in recognizer alone when the number has no byte at which another recognizer's trigger table could say
     * true: then none of them could report in it (their table clears it), and the combined table adds nothing the
     * built-in test does not decide. Numbers are most of what a JSON body's short values are; this spares each one
     * the table and a call to every recognizer.
     */
    public boolean mayFindNumber(byte[] b, int off, int len) {
        NumberTest t = compiled().numbers();
        if (t.builtin() == null) {
            return mayFind(b, off, len);
        }
        boolean[] others = t.othersTrigger();
        for (int i = off; i < off + len; i++) {
            if (others[b[i] & 0xff]) {
                return mayFind(b, off, len);
            }
        }
        return t.builtin().mayFind(b, off, len);
    }

    /** The start bytes of the recognizers' byte searches ({@link StartTable}), for the scanner's start maps. */
    StartTable startTable() {
        return compiled().starts();
    }

    /** Recognizers for one stream, sharing the tables compiled once for this rule set. */
    public List<Recognizer> newRecognizers() {
        List<Recognizer> out = new ArrayList<>();
        for (Recognizer r : compiled().recognizers()) {
            out.add(r.newStream());
        }
        return out;
    }

    private Compiled compiled() {
        Compiled c = compiled;
        if (c == null) {
            List<Recognizer> recognizers = compileRecognizers();
            c = new Compiled(
                    recognizers,
                    TriggerTable.of(recognizers),
                    new ContextWords(rules.stream().map(DetectorRule::context).toList()),
                    rules.stream()
                            .map(r -> new Replacements(r.action(), r.name()))
                            .toArray(Replacements[]::new),
                    rules.stream().map(AllowList::new).toArray(AllowList[]::new),
                    rules.toArray(DetectorRule[]::new),
                    NumberTest.of(recognizers),
                    StartTable.of(recognizers));
            compiled = c;
        }
        return c;
    }

    private List<Recognizer> compileRecognizers() {
        List<Recognizer> out = new ArrayList<>();
        if (!builtins.isEmpty()) {
            out.add(new BuiltinRecognizer(builtins));
        }
        Integer privateKey = builtins.get(BuiltinDetector.PRIVATE_KEY);
        if (privateKey != null) {
            out.add(new JwkTextRecognizer(privateKey)); // JSON Web Keys in text: a JSON reader, not a byte pattern
        }
        regexes.forEach((index, spec) ->
                out.add(new RegexRecognizer(index, spec.pattern(), spec.shape(), spec.confidence(), spec.validator())));
        keywords.forEach((index, spec) -> out.add(new KeywordRecognizer(index, spec.keywords(), spec.confidence())));
        return List.copyOf(out);
    }
}
