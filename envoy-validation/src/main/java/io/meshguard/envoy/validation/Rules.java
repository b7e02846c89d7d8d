package io.meshguard.envoy.validation;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import io.envoyproxy.pgv.validate.Validate.AnyRules;
import io.envoyproxy.pgv.validate.Validate.EnumRules;
import io.envoyproxy.pgv.validate.Validate.FieldRules;
import io.envoyproxy.pgv.validate.Validate.MapRules;
import io.envoyproxy.pgv.validate.Validate.RepeatedRules;
import io.envoyproxy.pgv.validate.Validate.TimestampRules;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One {@code validate.rules} applied to one value, per rule kind of validate.proto (numbers, bool, string, bytes,
 * enum, message, repeated, map, Any, Duration, Timestamp), with protoc-gen-validate's reason texts. Scalar rules on a
 * wrapper field ({@code google.protobuf.UInt32Value} …) apply to its {@code value}, as PGV generates them.
 */
final class Rules {
    private static final BigDecimal NANOS = BigDecimal.valueOf(1_000_000_000L);

    private Rules() {}

    /** A PGV violation in Envoy's wording: {@code Proto constraint validation failed (TypeValidationError.Field: …)}. */
    static Violation violation(String code, String path, String rule, Descriptor owner, String field, String reason) {
        String type = owner.getFullName()
                .substring(
                        owner.getFile().getPackage().isEmpty()
                                ? 0
                                : owner.getFile().getPackage().length() + 1)
                .replace('.', '_');
        return new Violation(
                code,
                path,
                rule,
                "Proto constraint validation failed (" + type + "ValidationError." + camel(field) + ": " + reason
                        + ")");
    }

    /** Whether an unset message field breaks {@code rules}. */
    static boolean required(FieldRules rules) {
        return rules.getMessage().getRequired()
                || rules.hasDuration() && rules.getDuration().getRequired()
                || rules.hasTimestamp() && rules.getTimestamp().getRequired()
                || rules.hasAny() && rules.getAny().getRequired();
    }

    static String requiredCode(FieldRules rules) {
        if (rules.getMessage().getRequired()) {
            return "pgv.message.required";
        }
        return "pgv." + rules.getTypeCase().name().toLowerCase(Locale.ROOT) + ".required";
    }

    /** Where a rule failed, for the violations of one value. */
    private record Site(String path, String rule, Descriptor owner, String field, List<Violation> out) {
        void fail(String code, String reason) {
            out.add(violation(code, path, rule, owner, field, reason));
        }
    }

    /** A list's or a map's size against its {@code min_}/{@code max_} rule ({@code items} or {@code pairs}). */
    private static void size(
            Site site,
            int n,
            boolean hasMin,
            long min,
            boolean hasMax,
            long max,
            String code,
            String rule,
            String unit) {
        if (hasMin && n < min) {
            site.fail(code + "min_" + rule, "value must contain at least " + min + " " + unit + "(s)");
        }
        if (hasMax && n > max) {
            site.fail(code + "max_" + rule, "value must contain no more than " + max + " " + unit + "(s)");
        }
    }

    /** A wrapper's ({@code google.protobuf.BoolValue} …) {@code value}, else the value itself. */
    private static Object unwrapped(Object value) {
        return value instanceof Message wrapper
                ? wrapper.getField(wrapper.getDescriptorForType().findFieldByName("value"))
                : value;
    }

    /** {@code repeated} rules on the whole list (its items are checked one by one with {@link #single}). */
    static void repeated(
            String path,
            Message m,
            FieldDescriptor f,
            FieldRules rules,
            String ruleText,
            Descriptor owner,
            List<Violation> out) {
        if (!rules.hasRepeated()) {
            return;
        }
        RepeatedRules r = rules.getRepeated();
        int n = m.getRepeatedFieldCount(f);
        if (n == 0 && r.getIgnoreEmpty()) {
            return;
        }
        Site site = new Site(path, ruleText, owner, f.getName(), out);
        size(
                site,
                n,
                r.hasMinItems(),
                r.getMinItems(),
                r.hasMaxItems(),
                r.getMaxItems(),
                "pgv.repeated.",
                "items",
                "item");
        if (r.getUnique()) {
            List<?> values = (List<?>) m.getField(f);
            if (EnvoyValidator.keys(values).size() != values.size()) {
                site.fail("pgv.repeated.unique", "repeated value must contain unique items");
            }
        }
    }

    /** {@code map} rules: the number of pairs, then {@code keys} and {@code values} on each entry. */
    static void map(
            String path,
            Message m,
            FieldDescriptor f,
            FieldRules rules,
            String ruleText,
            Descriptor owner,
            List<Violation> out) {
        if (!rules.hasMap()) {
            return;
        }
        MapRules r = rules.getMap();
        int n = m.getRepeatedFieldCount(f);
        if (n == 0 && r.getIgnoreEmpty()) {
            return;
        }
        size(
                new Site(path, ruleText, owner, f.getName(), out),
                n,
                r.hasMinPairs(),
                r.getMinPairs(),
                r.hasMaxPairs(),
                r.getMaxPairs(),
                "pgv.map.",
                "pairs",
                "pair");
        FieldDescriptor keyField = f.getMessageType().findFieldByName("key");
        FieldDescriptor valueField = f.getMessageType().findFieldByName("value");
        for (Object o : (List<?>) m.getField(f)) {
            Message entry = (Message) o;
            Object key = entry.getField(keyField);
            String at = path + "[" + key + "]";
            if (r.hasKeys()) {
                single(at, key, keyField, r.getKeys(), ruleText, owner, out);
            }
            if (r.hasValues()) {
                single(at, entry.getField(valueField), valueField, r.getValues(), ruleText, owner, out);
            }
            // no_sparse: a map value message is never unset in protobuf-java, so it cannot fail here
        }
    }

    /** The rules of one value: a singular field's value, a repeated field's item, a map key or value. */
    static void single(
            String path,
            Object value,
            FieldDescriptor f,
            FieldRules rules,
            String ruleText,
            Descriptor owner,
            List<Violation> out) {
        String field = f.getName();
        switch (rules.getTypeCase()) {
            case FLOAT, DOUBLE, INT32, INT64, UINT32, UINT64, SINT32, SINT64, FIXED32, FIXED64, SFIXED32, SFIXED64 -> {
                Message numeric = (Message) rules.getField(rules.getDescriptorForType()
                        .findFieldByNumber(rules.getTypeCase().getNumber()));
                Object scalar = value;
                FieldDescriptor.Type type = f.getType();
                if (value instanceof Message wrapper) {
                    FieldDescriptor inner = wrapper.getDescriptorForType().findFieldByName("value");
                    scalar = wrapper.getField(inner);
                    type = inner.getType();
                }
                Optional<BigDecimal> v = Bounds.number(scalar, type);
                if (v.isEmpty()) {
                    return;
                }
                FieldDescriptor ignore = numeric.getDescriptorForType().findFieldByName("ignore_empty");
                if (ignore != null
                        && (boolean) numeric.getField(ignore)
                        && v.get().signum() == 0) {
                    return;
                }
                String kind = rules.getTypeCase().name().toLowerCase(Locale.ROOT);
                Bounds.check(numeric, v.get(), o -> ruleNumber(numeric, o), Rules::plain)
                        .ifPresent(fail -> out.add(violation(
                                "pgv." + kind + "." + fail.kind(), path, ruleText, owner, field, fail.reason())));
            }
            case BOOL -> {
                Object b = unwrapped(value);
                if (rules.getBool().hasConst() && !b.equals(rules.getBool().getConst())) {
                    out.add(violation(
                            "pgv.bool.const",
                            path,
                            ruleText,
                            owner,
                            field,
                            "value must equal " + rules.getBool().getConst()));
                }
            }
            case STRING -> {
                TextRules.string(rules.getString(), (String) unwrapped(value))
                        .ifPresent(fail -> out.add(
                                violation("pgv.string." + fail.kind(), path, ruleText, owner, field, fail.reason())));
            }
            case BYTES -> {
                TextRules.bytes(rules.getBytes(), (ByteString) unwrapped(value))
                        .ifPresent(fail -> out.add(
                                violation("pgv.bytes." + fail.kind(), path, ruleText, owner, field, fail.reason())));
            }
            case ENUM ->
                enumRules(new Site(path, ruleText, owner, field, out), (EnumValueDescriptor) value, f, rules.getEnum());
            case ANY -> anyRules(new Site(path, ruleText, owner, field, out), (Message) value, rules.getAny());
            case DURATION -> {
                Message d = (Message) value;
                Bounds.check(rules.getDuration(), nanos(d), o -> nanos((Message) o), Rules::seconds)
                        .ifPresent(fail -> out.add(
                                violation("pgv.duration." + fail.kind(), path, ruleText, owner, field, fail.reason())));
            }
            case TIMESTAMP ->
                timestampRules(new Site(path, ruleText, owner, field, out), (Message) value, rules.getTimestamp());
            case REPEATED, MAP, TYPE_NOT_SET -> {}
        }
    }

    private static void enumRules(Site site, EnumValueDescriptor value, FieldDescriptor f, EnumRules r) {
        int n = value.getNumber();
        if (r.hasConst() && n != r.getConst()) {
            site.fail("pgv.enum.const", "value must equal " + r.getConst());
        }
        if (r.getDefinedOnly() && f.getEnumType().findValueByNumber(n) == null) {
            site.fail("pgv.enum.defined_only", "value must be one of the defined enum values");
        }
        if (r.getInCount() > 0 && !r.getInList().contains(n)) {
            site.fail("pgv.enum.in", "value must be in list " + r.getInList());
        }
        if (r.getNotInList().contains(n)) {
            site.fail("pgv.enum.not_in", "value must not be in list " + r.getNotInList());
        }
    }

    private static void anyRules(Site site, Message any, AnyRules r) {
        String url = (String) any.getField(any.getDescriptorForType().findFieldByName("type_url"));
        if (r.getInCount() > 0 && !r.getInList().contains(url)) {
            site.fail("pgv.any.in", "type URL must be in list " + r.getInList());
        }
        if (r.getNotInList().contains(url)) {
            site.fail("pgv.any.not_in", "type URL must not be in list " + r.getNotInList());
        }
    }

    private static void timestampRules(Site site, Message ts, TimestampRules r) {
        BigDecimal t = nanos(ts);
        Bounds.check(r, t, o -> nanos((Message) o), Rules::seconds)
                .ifPresent(fail -> site.fail("pgv.timestamp." + fail.kind(), fail.reason()));
        Instant now = Instant.now();
        BigDecimal nowNanos =
                BigDecimal.valueOf(now.getEpochSecond()).multiply(NANOS).add(BigDecimal.valueOf(now.getNano()));
        if (r.getLtNow() && t.compareTo(nowNanos) >= 0) {
            site.fail("pgv.timestamp.lt_now", "value must be less than now");
        }
        if (r.getGtNow() && t.compareTo(nowNanos) <= 0) {
            site.fail("pgv.timestamp.gt_now", "value must be greater than now");
        }
        if (r.hasWithin() && t.subtract(nowNanos).abs().compareTo(nanos(r.getWithin())) > 0) {
            site.fail("pgv.timestamp.within", "value must be within " + seconds(nanos(r.getWithin())) + " of now");
        }
    }

    /** A rule value of a numeric XxxRules message, widened by the rule field's own type. */
    private static BigDecimal ruleNumber(Message numeric, Object o) {
        FieldDescriptor constField = numeric.getDescriptorForType().findFieldByName("const");
        return Bounds.number(o, constField.getType()).orElse(BigDecimal.ZERO);
    }

    /** Seconds and nanos of a Duration or Timestamp, as nanoseconds. */
    static BigDecimal nanos(Message secondsAndNanos) {
        var d = secondsAndNanos.getDescriptorForType();
        long s = (long) secondsAndNanos.getField(d.findFieldByName("seconds"));
        int n = (int) secondsAndNanos.getField(d.findFieldByName("nanos"));
        return BigDecimal.valueOf(s).multiply(NANOS).add(BigDecimal.valueOf(n));
    }

    /** Nanoseconds as PGV prints a duration: {@code 0s}, {@code 0.005s}. */
    static String seconds(BigDecimal nanos) {
        BigDecimal s = nanos.divide(NANOS, 9, RoundingMode.UNNECESSARY).stripTrailingZeros();
        return (s.signum() == 0 ? "0" : s.toPlainString()) + "s";
    }

    private static String plain(BigDecimal d) {
        return d.stripTrailingZeros().toPlainString();
    }

    /** {@code base_interval} → {@code BaseInterval}, as PGV names fields in its error types. */
    static String camel(String field) {
        StringBuilder b = new StringBuilder();
        boolean up = true;
        for (char c : field.toCharArray()) {
            if (c == '_') {
                up = true;
            } else {
                b.append(up ? Character.toUpperCase(c) : c);
                up = false;
            }
        }
        return b.toString();
    }
}
