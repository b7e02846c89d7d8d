package io.meshguard.envoy.validation;

import com.google.protobuf.ByteString;
import com.google.re2j.Pattern;
import io.envoyproxy.pgv.validate.Validate.BytesRules;
import io.envoyproxy.pgv.validate.Validate.StringRules;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * PGV's {@code string} and {@code bytes} rules: lengths (runes for strings, bytes for both), {@code pattern} (RE2
 * syntax, searched as protoc-gen-validate does: the patterns anchor themselves), prefix, suffix, contains,
 * not_contains, {@code in}, {@code not_in} and the well-known formats ({@link WellKnownFormats}).
 */
final class TextRules {
    private static final Map<String, Pattern> PATTERNS = new ConcurrentHashMap<>();

    private TextRules() {}

    static Optional<Bounds.Failure> string(StringRules r, String s) {
        if (r.getIgnoreEmpty() && s.isEmpty()) {
            return Optional.empty();
        }
        long runes = s.codePointCount(0, s.length());
        long bytes = s.getBytes(StandardCharsets.UTF_8).length;
        if (r.hasConst() && !s.equals(r.getConst())) {
            return fail("const", "value must equal " + quote(r.getConst()));
        }
        if (r.hasLen() && runes != r.getLen()) {
            return fail("len", "value length must be " + r.getLen() + " runes");
        }
        if (r.hasMinLen() && runes < r.getMinLen()) {
            return fail("min_len", "value length must be at least " + r.getMinLen() + " runes");
        }
        if (r.hasMaxLen() && runes > r.getMaxLen()) {
            return fail("max_len", "value length must be at most " + r.getMaxLen() + " runes");
        }
        if (r.hasLenBytes() && bytes != r.getLenBytes()) {
            return fail("len_bytes", "value length must be " + r.getLenBytes() + " bytes");
        }
        if (r.hasMinBytes() && bytes < r.getMinBytes()) {
            return fail("min_bytes", "value length must be at least " + r.getMinBytes() + " bytes");
        }
        if (r.hasMaxBytes() && bytes > r.getMaxBytes()) {
            return fail("max_bytes", "value length must be at most " + r.getMaxBytes() + " bytes");
        }
        if (r.hasPattern() && !pattern(r.getPattern()).matcher(s).find()) {
            return fail("pattern", "value does not match regex pattern " + quote(r.getPattern()));
        }
        if (r.hasPrefix() && !s.startsWith(r.getPrefix())) {
            return fail("prefix", "value does not have prefix " + quote(r.getPrefix()));
        }
        if (r.hasSuffix() && !s.endsWith(r.getSuffix())) {
            return fail("suffix", "value does not have suffix " + quote(r.getSuffix()));
        }
        if (r.hasContains() && !s.contains(r.getContains())) {
            return fail("contains", "value does not contain substring " + quote(r.getContains()));
        }
        if (r.hasNotContains() && s.contains(r.getNotContains())) {
            return fail("not_contains", "value contains substring " + quote(r.getNotContains()));
        }
        if (r.getInCount() > 0 && !r.getInList().contains(s)) {
            return fail("in", "value must be in list " + r.getInList());
        }
        if (r.getNotInList().contains(s)) {
            return fail("not_in", "value must not be in list " + r.getNotInList());
        }
        return switch (r.getWellKnownCase()) {
            case EMAIL -> WellKnownFormats.email(s) ? ok() : fail("email", "value must be a valid email address");
            case HOSTNAME -> WellKnownFormats.hostname(s) ? ok() : fail("hostname", "value must be a valid hostname");
            case IP -> WellKnownFormats.ip(s) ? ok() : fail("ip", "value must be a valid IP address");
            case IPV4 -> WellKnownFormats.ipv4(s) ? ok() : fail("ipv4", "value must be a valid IPv4 address");
            case IPV6 -> WellKnownFormats.ipv6(s) ? ok() : fail("ipv6", "value must be a valid IPv6 address");
            case URI -> WellKnownFormats.uri(s) ? ok() : fail("uri", "value must be a valid URI");
            case URI_REF -> WellKnownFormats.uriRef(s) ? ok() : fail("uri_ref", "value must be a valid URI");
            case ADDRESS ->
                WellKnownFormats.hostname(s) || WellKnownFormats.ip(s)
                        ? ok()
                        : fail("address", "value must be a valid hostname, or ip address");
            case UUID -> WellKnownFormats.uuid(s) ? ok() : fail("uuid", "value must be a valid UUID");
            case WELL_KNOWN_REGEX -> {
                String regex = WellKnownFormats.knownRegex(r.getWellKnownRegex(), !r.hasStrict() || r.getStrict());
                yield regex.isEmpty() || pattern(regex).matcher(s).find()
                        ? ok()
                        : fail("well_known_regex", "value does not match regex pattern " + quote(regex));
            }
            case WELLKNOWN_NOT_SET -> ok();
        };
    }

    static Optional<Bounds.Failure> bytes(BytesRules r, ByteString b) {
        if (r.getIgnoreEmpty() && b.isEmpty()) {
            return Optional.empty();
        }
        long n = b.size();
        if (r.hasConst() && !b.equals(r.getConst())) {
            return fail("const", "value must equal " + r.getConst().toStringUtf8());
        }
        if (r.hasLen() && n != r.getLen()) {
            return fail("len", "value length must be " + r.getLen() + " bytes");
        }
        if (r.hasMinLen() && n < r.getMinLen()) {
            return fail("min_len", "value length must be at least " + r.getMinLen() + " bytes");
        }
        if (r.hasMaxLen() && n > r.getMaxLen()) {
            return fail("max_len", "value length must be at most " + r.getMaxLen() + " bytes");
        }
        if (r.hasPattern() && !pattern(r.getPattern()).matcher(b.toStringUtf8()).find()) {
            return fail("pattern", "value does not match regex pattern " + quote(r.getPattern()));
        }
        if (r.hasPrefix() && !b.startsWith(r.getPrefix())) {
            return fail(
                    "prefix",
                    "value does not have prefix " + quote(r.getPrefix().toStringUtf8()));
        }
        if (r.hasSuffix() && !b.endsWith(r.getSuffix())) {
            return fail(
                    "suffix",
                    "value does not have suffix " + quote(r.getSuffix().toStringUtf8()));
        }
        if (r.hasContains() && !b.toStringUtf8().contains(r.getContains().toStringUtf8())) {
            return fail(
                    "contains",
                    "value does not contain " + quote(r.getContains().toStringUtf8()));
        }
        if (r.getInCount() > 0 && !r.getInList().contains(b)) {
            return fail(
                    "in",
                    "value must be in list "
                            + r.getInList().stream()
                                    .map(ByteString::toStringUtf8)
                                    .toList());
        }
        if (r.getNotInList().contains(b)) {
            return fail(
                    "not_in",
                    "value must not be in list "
                            + r.getNotInList().stream()
                                    .map(ByteString::toStringUtf8)
                                    .toList());
        }
        return switch (r.getWellKnownCase()) {
            case IP -> n == 4 || n == 16 ? ok() : fail("ip", "value must be a valid IP address");
            case IPV4 -> n == 4 ? ok() : fail("ipv4", "value must be a valid IPv4 address");
            case IPV6 -> n == 16 ? ok() : fail("ipv6", "value must be a valid IPv6 address");
            case WELLKNOWN_NOT_SET -> ok();
        };
    }

    private static Pattern pattern(String regex) {
        return PATTERNS.computeIfAbsent(regex, Pattern::compile);
    }

    private static String quote(String s) {
        return "\"" + s + "\"";
    }

    private static Optional<Bounds.Failure> ok() {
        return Optional.empty();
    }

    private static Optional<Bounds.Failure> fail(String kind, String reason) {
        return Optional.of(new Bounds.Failure(kind, reason));
    }
}
