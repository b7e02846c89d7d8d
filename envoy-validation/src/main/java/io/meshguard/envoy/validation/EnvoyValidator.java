package io.meshguard.envoy.validation;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import io.envoyproxy.pgv.validate.Validate;
import io.envoyproxy.pgv.validate.Validate.FieldRules;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Envoy's load-time checks of one xDS resource, as Envoy makes them when a response arrives ({@code
 * MessageUtil::validate}, source/common/protobuf/utility.h): the protoc-gen-validate rules ({@code validate.rules}
 * on fields, {@code validate.required} on oneofs) read from the descriptors of the Envoy API jar on the class path,
 * recursing into {@code Any} payloads by type URL ({@link ApiTypes}), plus the checks Envoy makes outside PGV that
 * meshguard's output can hit, each naming its source:
 * <ul>
 *   <li>every {@code Duration} non-negative and in protobuf's range ({@code validateDuration},
 *       source/common/protobuf/utility.cc: "Expected positive duration");</li>
 *   <li>header values of {@code HeaderValueOption} go through the substitution formatter ({@link HeaderFormat});</li>
 *   <li>every {@code RegexMatcher} compiles in RE2 within the program size meshguard's bootstraps allow
 *       ({@link EnvoyRegexBudget}).</li>
 * </ul>
 * Stateless and thread-safe; the first use loads the jar's descriptors once.
 */
public final class EnvoyValidator {
    private static final String DURATION = "google.protobuf.Duration";
    private static final String HEADER_VALUE_OPTION = "envoy.config.core.v3.HeaderValueOption";
    private static final String REGEX_MATCHER = "envoy.type.matcher.v3.RegexMatcher";
    /** Protobuf's own bound (google/protobuf/duration.proto): ±10,000 years. */
    private static final long MAX_DURATION_SECONDS = 315_576_000_000L;

    /**
     * Each field's rules and their text, read once: the walk visits every field of every resource on each publish,
     * and printing the rules there cost more than the checks (a publish profile).
     */
    private static final Map<FieldDescriptor, DeclaredRules> RULES = new ConcurrentHashMap<>();

    private EnvoyValidator() {}

    /** A field's {@code validate.rules} (default when none) and their text, as a violation names its rule. */
    private record DeclaredRules(FieldRules rules, String text, String itemsText) {
        static DeclaredRules of(FieldDescriptor f) {
            FieldRules rules = f.getOptions().hasExtension(Validate.rules)
                    ? f.getOptions().getExtension(Validate.rules)
                    : FieldRules.getDefaultInstance();
            return new DeclaredRules(
                    rules,
                    TextFormat.printer().shortDebugString(rules),
                    TextFormat.printer().shortDebugString(rules.getRepeated().getItems()));
        }
    }

    /**
     * Verdicts on parts of resources checked before. A route table holds every route of a group, so a one-route change
     * makes a new table whose other routes equal routes already checked; the checks read a part's content only, so an
     * equal part's violations (paths relative to the part) stand for it.
     */
    public interface Parts {
        /** Parts remembered by nobody: every part is walked. */
        Parts NONE = new Parts() {
            @Override
            public boolean remembers(Descriptor type) {
                return false;
            }

            @Override
            public List<Violation> verdict(Message part, java.util.function.Function<Message, List<Violation>> check) {
                return check.apply(part);
            }
        };

        /** Whether parts of this type are worth remembering (called for every nested message). */
        boolean remembers(Descriptor type);

        /** The violations of {@code part}, paths relative to it: remembered, or {@code check}ed now. */
        List<Violation> verdict(Message part, java.util.function.Function<Message, List<Violation>> check);
    }

    /** Every violation in {@code resource}, in walk order; empty when Envoy would load it. */
    public static List<Violation> validate(Message resource) {
        return validate(resource, Parts.NONE);
    }

    /** As {@link #validate(Message)}, taking the verdict on each part {@code parts} remembers from it. */
    public static List<Violation> validate(Message resource, Parts parts) {
        List<Violation> out = new ArrayList<>();
        new Walk(parts).message("", resource, out);
        return List.copyOf(out);
    }

    /**
     * As {@link #validate(Message, Parts)} for a resource that equals {@code clean}, one of its type found without a
     * violation, but for the items of {@code field}: asks {@code parts} for the verdict only on the items that are not
     * the instance at the same place in {@code clean}. A one-route change makes a new route table that holds its
     * group's hundreds of unchanged virtual hosts; each was looked up by identity, and the table hashed and sized
     * whole, to find the one that changed. Empty when the shortcut does not hold: the rest of the resource
     * differs, the field declares rules of its own (they read the whole list), or its items are not remembered parts.
     */
    public static Optional<List<Violation>> validateChangedItems(
            Message resource, Message clean, FieldDescriptor field, Parts parts) {
        Descriptor type = resource.getDescriptorForType();
        if (clean.getDescriptorForType() != type
                || field.getContainingType() != type
                || !field.isRepeated()
                || field.isMapField()
                || field.getJavaType() != FieldDescriptor.JavaType.MESSAGE
                || !parts.remembers(field.getMessageType())
                || !RULES.computeIfAbsent(field, DeclaredRules::of).rules().equals(FieldRules.getDefaultInstance())
                || !resource.toBuilder()
                        .clearField(field)
                        .build()
                        .equals(clean.toBuilder().clearField(field).build())) {
            return Optional.empty();
        }
        List<?> items = (List<?>) resource.getField(field);
        List<?> before = (List<?>) clean.getField(field);
        List<Violation> out = new ArrayList<>();
        Walk walk = new Walk(parts);
        for (int i = 0; i < items.size(); i++) {
            if (i < before.size() && items.get(i) == before.get(i)) {
                continue;
            }
            int index = i;
            walk.remembered(() -> field.getName() + "[" + index + "]", (Message) items.get(i), out);
        }
        return Optional.of(List.copyOf(out));
    }

    /** The first violation, as Envoy stops at the first one and NACKs the response with it. */
    public static Optional<Violation> firstViolation(Message resource) {
        return validate(resource).stream().findFirst();
    }

    /** One walk over a resource, asking {@code parts} for the verdict on each part it remembers. */
    private record Walk(Parts parts) {
        void message(String path, Message m, List<Violation> out) {
            Descriptor type = m.getDescriptorForType();
            if (!path.isEmpty() && parts.remembers(type)) {
                remembered(() -> path, m, out);
                return;
            }
            if (type.getFullName().equals(Any.getDescriptor().getFullName())) {
                // generated, or inside a dynamically parsed payload
                ApiTypes.unpack(m).ifPresent(payload -> message(path, payload, out));
                return;
            }
            if (type.getOptions().getExtension(Validate.disabled)
                    || type.getOptions().getExtension(Validate.ignored)) {
                return;
            }
            switch (type.getFullName()) {
                case DURATION -> duration(path, m, out);
                case HEADER_VALUE_OPTION -> HeaderFormat.check(path, m, out);
                case REGEX_MATCHER -> regex(path, m, out);
                default -> {}
            }
            for (OneofDescriptor oneof : type.getRealOneofs()) {
                if (oneof.getOptions().getExtension(Validate.required) && !m.hasOneof(oneof)) {
                    out.add(Rules.violation(
                            "pgv.oneof.required",
                            join(path, oneof.getName()),
                            "oneof " + oneof.getName() + " (validate.required) = true",
                            type,
                            oneof.getName(),
                            "value is required"));
                }
            }
            for (FieldDescriptor f : type.getFields()) {
                field(path, m, f, out);
            }
        }

        /** A remembered part's verdict, its violations under {@code path} (built only when there is one). */
        private void remembered(java.util.function.Supplier<String> path, Message part, List<Violation> out) {
            for (Violation v : parts.verdict(part, this::whole)) {
                String at = path.get();
                out.add(new Violation(v.code(), v.path().isEmpty() ? at : join(at, v.path()), v.rule(), v.message()));
            }
        }

        private List<Violation> whole(Message part) {
            List<Violation> out = new ArrayList<>();
            message("", part, out);
            return out;
        }

        private void field(String path, Message m, FieldDescriptor f, List<Violation> out) {
            if (f.getRealContainingOneof() != null && !m.hasField(f)) {
                return; // PGV checks a oneof member only when it is the one set
            }
            String at = join(path, f.getName());
            DeclaredRules declared = RULES.computeIfAbsent(f, DeclaredRules::of);
            FieldRules rules = declared.rules();
            Descriptor owner = f.getContainingType();
            String ruleText = declared.text();
            if (f.isMapField()) {
                Rules.map(at, m, f, rules, ruleText, owner, out);
                FieldDescriptor valueField = f.getMessageType().findFieldByName("value");
                boolean skip = rules.getMap().getValues().getMessage().getSkip();
                if (valueField.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !skip) {
                    for (Object entry : (List<?>) m.getField(f)) {
                        Message e = (Message) entry;
                        message(
                                at + "[" + e.getField(f.getMessageType().findFieldByName("key")) + "]",
                                (Message) e.getField(valueField),
                                out);
                    }
                }
                return;
            }
            if (f.isRepeated()) {
                Rules.repeated(at, m, f, rules, ruleText, owner, out);
                boolean skip = rules.getRepeated().getItems().getMessage().getSkip();
                // one reflective read of the list: a route table's hundreds of virtual hosts, each remembered, were
                // read one reflective call and one path string each
                List<?> items = (List<?>) m.getField(f);
                for (int i = 0; i < items.size(); i++) {
                    Object item = items.get(i);
                    if (item instanceof Message child
                            && !skip
                            && !rules.getRepeated().hasItems()
                            && parts.remembers(child.getDescriptorForType())) {
                        int index = i;
                        remembered(() -> at + "[" + index + "]", child, out);
                        continue;
                    }
                    if (rules.getRepeated().hasItems()) {
                        Rules.single(
                                at + "[" + i + "]",
                                item,
                                f,
                                rules.getRepeated().getItems(),
                                declared.itemsText(),
                                owner,
                                out);
                    }
                    if (item instanceof Message child && !skip) {
                        message(at + "[" + i + "]", child, out);
                    }
                }
                return;
            }
            if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                boolean set = m.hasField(f);
                if (!set) {
                    if (Rules.required(rules)) {
                        out.add(Rules.violation(
                                Rules.requiredCode(rules), at, ruleText, owner, f.getName(), "value is required"));
                    }
                    return;
                }
                Message child = (Message) m.getField(f);
                Rules.single(at, child, f, rules, ruleText, owner, out);
                if (!rules.getMessage().getSkip()) {
                    message(at, child, out);
                }
                return;
            }
            if (f.hasPresence() && !m.hasField(f)) {
                return;
            }
            Rules.single(at, m.getField(f), f, rules, ruleText, owner, out);
        }
    }

    /** source/common/protobuf/utility.cc, {@code validateDurationNoThrow}. */
    private static void duration(String path, Message m, List<Violation> out) {
        Duration d;
        try {
            d = m instanceof Duration typed ? typed : Duration.parseFrom(m.toByteString());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            return; // cannot happen: the same message type
        }
        String rule = "Envoy MessageUtil::validateDuration (source/common/protobuf/utility.cc)";
        if (d.getSeconds() < 0 || d.getNanos() < 0) {
            out.add(new Violation(
                    "envoy.duration.negative",
                    path,
                    rule,
                    "Expected positive duration: " + TextFormat.printer().shortDebugString(d)));
        } else if (d.getSeconds() > MAX_DURATION_SECONDS || d.getNanos() > 999_999_999) {
            out.add(new Violation(
                    "envoy.duration.range",
                    path,
                    rule,
                    "Duration out-of-range according to Protobuf: "
                            + TextFormat.printer().shortDebugString(d)));
        }
    }

    /** source/common/common/regex.cc, {@code CompiledGoogleReMatcher}: RE2 must compile it within the budget. */
    private static void regex(String path, Message m, List<Violation> out) {
        FieldDescriptor f = m.getDescriptorForType().findFieldByName("regex");
        String regex = (String) m.getField(f);
        String at = join(path, "regex");
        String rule = "Envoy CompiledGoogleReMatcher (source/common/common/regex.cc)";
        try {
            com.google.re2j.Pattern.compile(regex);
        } catch (com.google.re2j.PatternSyntaxException e) {
            out.add(new Violation("envoy.regex.invalid", at, rule, e.getMessage()));
            return;
        }
        if (EnvoyRegexBudget.tooLarge(regex)) {
            out.add(new Violation(
                    "envoy.regex.program_size",
                    at,
                    rule + ", re2.max_program_size.error_level " + EnvoyRegexBudget.ERROR_LEVEL,
                    "regex '" + regex + "' RE2 program size of "
                            + EnvoyRegexBudget.estimatedEnvoySize(regex) + " > max program size of "
                            + EnvoyRegexBudget.ERROR_LEVEL
                            + " set for the error level threshold. Increase configured max "
                            + "program size if necessary."));
        }
    }

    static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /** Whether two field values are equal for {@code unique}: messages by content, enums by number. */
    static Set<Object> keys(List<?> values) {
        Set<Object> keys = new HashSet<>();
        for (Object v : values) {
            keys.add(v instanceof EnumValueDescriptor e ? e.getNumber() : v);
        }
        return keys;
    }
}
