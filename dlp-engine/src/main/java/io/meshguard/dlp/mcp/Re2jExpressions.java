package io.meshguard.dlp.mcp;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import com.networknt.schema.regex.RegularExpression;
import com.networknt.schema.regex.RegularExpressionFactory;

/**
 * JSON Schema {@code pattern} and {@code patternProperties} on RE2J, linear in the input: a pinned schema comes from an
 * MCP server and the arguments from an agent, so neither may make a backtracking engine run for minutes. A pattern
 * RE2 cannot express (back-references, look-around) is refused when the pin is loaded.
 */
final class Re2jExpressions implements RegularExpressionFactory {
    static final Re2jExpressions INSTANCE = new Re2jExpressions();

    private Re2jExpressions() {}

    @Override
    public RegularExpression getRegularExpression(String regex) {
        Pattern p = compile(regex);
        // JSON Schema patterns are not anchored (2020-12 validation, section 6.3.3): a match anywhere counts
        return value -> p.matcher(value).find();
    }

    /** The pattern compiled, or an {@link IllegalArgumentException} saying why RE2 refuses it. */
    static Pattern compile(String regex) {
        try {
            return Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("pattern '" + regex + "' is not RE2 syntax: " + e.getDescription(), e);
        }
    }
}
