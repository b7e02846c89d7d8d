package io.meshguard.envoy.validation;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * PGV's comparison rules, shared by every numeric kind, Duration and Timestamp: {@code const}, {@code lt}/{@code lte}
 * and {@code gt}/{@code gte} (both set: inside the range when the upper bound is above the lower one, outside it
 * otherwise, as protoc-gen-validate's templates define), {@code in}, {@code not_in}. Values are compared as exact
 * decimals (unsigned kinds widened, Duration and Timestamp as nanoseconds).
 */
final class Bounds {
    /** Which rule failed ({@code gt}, {@code gte_lte}, {@code in} …) and PGV's reason text. */
    record Failure(String kind, String reason) {}

    private Bounds() {}

    /**
     * @param rules an {@code XxxRules} message of validate.proto
     * @param value the field's value, converted as {@code number} converts each rule value
     * @param number a rule field's value (a number or a Duration/Timestamp message) as a decimal
     * @param show a decimal as PGV prints it in the reason
     */
    static Optional<Failure> check(
            Message rules, BigDecimal value, Function<Object, BigDecimal> number, Function<BigDecimal, String> show) {
        Optional<BigDecimal> constant = one(rules, "const", number);
        if (constant.isPresent() && value.compareTo(constant.get()) != 0) {
            return fail("const", "value must equal " + show.apply(constant.get()));
        }
        Optional<BigDecimal> lt = one(rules, "lt", number);
        Optional<BigDecimal> lte = one(rules, "lte", number);
        Optional<BigDecimal> gt = one(rules, "gt", number);
        Optional<BigDecimal> gte = one(rules, "gte", number);
        Optional<BigDecimal> upper = lt.or(() -> lte);
        Optional<BigDecimal> lower = gt.or(() -> gte);
        boolean upperIncluded = lt.isEmpty();
        boolean lowerIncluded = gt.isEmpty();
        if (upper.isPresent() && lower.isPresent()) {
            String kind = (lowerIncluded ? "gte" : "gt") + "_" + (upperIncluded ? "lte" : "lt");
            boolean belowUpper = upperIncluded ? value.compareTo(upper.get()) <= 0 : value.compareTo(upper.get()) < 0;
            boolean aboveLower = lowerIncluded ? value.compareTo(lower.get()) >= 0 : value.compareTo(lower.get()) > 0;
            if (upper.get().compareTo(lower.get()) > 0) {
                if (!(belowUpper && aboveLower)) {
                    return fail(
                            kind,
                            "value must be inside range " + (lowerIncluded ? "[" : "(") + show.apply(lower.get()) + ", "
                                    + show.apply(upper.get()) + (upperIncluded ? "]" : ")"));
                }
            } else if (!(belowUpper || aboveLower)) {
                return fail(
                        kind,
                        "value must be outside range " + (upperIncluded ? "(" : "[") + show.apply(upper.get()) + ", "
                                + show.apply(lower.get()) + (lowerIncluded ? ")" : "]"));
            }
        } else if (upper.isPresent()) {
            boolean ok = upperIncluded ? value.compareTo(upper.get()) <= 0 : value.compareTo(upper.get()) < 0;
            if (!ok) {
                return fail(
                        upperIncluded ? "lte" : "lt",
                        "value must be less than " + (upperIncluded ? "or equal to " : "") + show.apply(upper.get()));
            }
        } else if (lower.isPresent()) {
            boolean ok = lowerIncluded ? value.compareTo(lower.get()) >= 0 : value.compareTo(lower.get()) > 0;
            if (!ok) {
                return fail(
                        lowerIncluded ? "gte" : "gt",
                        "value must be greater than " + (lowerIncluded ? "or equal to " : "")
                                + show.apply(lower.get()));
            }
        }
        List<BigDecimal> in = list(rules, "in", number);
        if (!in.isEmpty() && in.stream().noneMatch(x -> x.compareTo(value) == 0)) {
            return fail("in", "value must be in list " + in.stream().map(show).toList());
        }
        List<BigDecimal> notIn = list(rules, "not_in", number);
        if (notIn.stream().anyMatch(x -> x.compareTo(value) == 0)) {
            return fail(
                    "not_in",
                    "value must not be in list " + notIn.stream().map(show).toList());
        }
        return Optional.empty();
    }

    /** A numeric field value of protobuf type {@code type} as an exact decimal; empty for NaN and infinities. */
    static Optional<BigDecimal> number(Object value, FieldDescriptor.Type type) {
        return switch (value) {
            case Integer i
            when type == FieldDescriptor.Type.UINT32 || type == FieldDescriptor.Type.FIXED32 ->
                Optional.of(BigDecimal.valueOf(Integer.toUnsignedLong(i)));
            case Integer i -> Optional.of(BigDecimal.valueOf(i));
            case Long l
            when type == FieldDescriptor.Type.UINT64 || type == FieldDescriptor.Type.FIXED64 ->
                Optional.of(new BigDecimal(Long.toUnsignedString(l)));
            case Long l -> Optional.of(BigDecimal.valueOf(l));
            case Float x when Float.isFinite(x) -> Optional.of(new BigDecimal(Float.toString(x)));
            case Double x when Double.isFinite(x) -> Optional.of(BigDecimal.valueOf(x));
            default -> Optional.empty();
        };
    }

    private static Optional<BigDecimal> one(Message rules, String name, Function<Object, BigDecimal> number) {
        FieldDescriptor f = rules.getDescriptorForType().findFieldByName(name);
        return f != null && rules.hasField(f) ? Optional.of(number.apply(rules.getField(f))) : Optional.empty();
    }

    private static List<BigDecimal> list(Message rules, String name, Function<Object, BigDecimal> number) {
        FieldDescriptor f = rules.getDescriptorForType().findFieldByName(name);
        List<BigDecimal> out = new ArrayList<>();
        if (f != null) {
            for (Object o : (List<?>) rules.getField(f)) {
                out.add(number.apply(o));
            }
        }
        return out;
    }

    private static Optional<Failure> fail(String kind, String reason) {
        return Optional.of(new Failure(kind, reason));
    }
}
