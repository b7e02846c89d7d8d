package io.meshguard.dlp.content;

/** Field names end up in audit locations; a name that could itself be sensitive is replaced by "*". */
final class Locations {
    private Locations() {}

    /** Short, digit-poor names of letters, digits, {@code _ . $ - [ ]} and spaces. */
    static boolean safeName(String name) {
        if (name.length() > 64) {
            return false;
        }
        int digits = 0;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= '0' && c <= '9') {
                digits++;
            } else if (!((c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || c == '_'
                    || c == '.'
                    || c == '$'
                    || c == '-'
                    || c == ' '
                    || c == '['
                    || c == ']')) {
                return false;
            }
        }
        return digits <= 3;
    }
}
