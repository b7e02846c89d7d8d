package io.meshguard.contract;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.contract.CanonicalPath.Problem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** meshguard's path model: what is canonical, and every spelling that is refused, class by class. */
class CanonicalPathTest {
    @Test
    void alreadyCanonicalPath_isTheCallersOwnString_noCopy() {
        String target = "/v1/accounts/42";
        CanonicalPath p = CanonicalPath.parse(target);
        assertThat(p.canonical()).isTrue();
        assertThat(p.path()).isSameAs(target);
        assertThat(p.rawPath()).isSameAs(target);
        assertThat(p.hasParameters()).isFalse();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                "/                      | /",
                "/a/b?x=1&y=/../z       | /a/b",
                "/a/?                   | /a/",
                "/%61dmin               | /admin",
                "/%7Euser/%7euser       | /~user/~user",
                "/a%2Eb/c%2ejson        | /a.b/c.json",
                "/a%20b                 | /a b",
                "/a%3Ab%40c             | /a:b@c",
                "/caf%C3%A9             | /café",
                "/%F0%9F%98%80          | /😀",
                "/%ED%95%9C%EA%B8%80    | /한글",
                "/...                   | /...",
                "/a./.b/..c             | /a./.b/..c",
                "/a/b/                  | /a/b/",
                "/a;v=1/b;x             | /a/b",
                "/a/;x                  | /a/",
                "/A/B                   | /A/B",
            })
    void canonicalForms(String target, String expected) {
        CanonicalPath p = CanonicalPath.parse(target);
        assertThat(p.problem()).as(target).isEmpty();
        assertThat(p.path()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} refused: {1}")
    @CsvSource(
            delimiter = '|',
            value = {
                // dot segments in every spelling, with and without parameters
                "/a/../admin            | DOT_SEGMENT",
                "/a/./admin             | DOT_SEGMENT",
                "/..                    | DOT_SEGMENT",
                "/a/..                  | DOT_SEGMENT",
                "/a/.                   | DOT_SEGMENT",
                "/a/%2e%2e/admin        | DOT_SEGMENT",
                "/a/%2E%2e/admin        | DOT_SEGMENT",
                "/a/.%2e/admin          | DOT_SEGMENT",
                "/a/%2e./admin          | DOT_SEGMENT",
                "/a/%2E/admin           | DOT_SEGMENT",
                "/a/..;x/admin          | DOT_SEGMENT",
                "/a/.;/admin            | DOT_SEGMENT",
                "/a/..?q                | DOT_SEGMENT",
                // encoded separators and delimiters, any case
                "/a%2fb                 | ENCODED_SEPARATOR",
                "/a%2Fb                 | ENCODED_SEPARATOR",
                "/a/..%2fadmin          | ENCODED_SEPARATOR",
                "/a%5cb                 | ENCODED_SEPARATOR",
                "/a%5Cb                 | ENCODED_SEPARATOR",
                "/a%3bx/b               | ENCODED_SEPARATOR",
                "/a;x%2f/b              | ENCODED_SEPARATOR",
                // double encoding
                "/a/%252e%252e/admin    | DOUBLE_ENCODING",
                "/a%252Fb               | DOUBLE_ENCODING",
                "/a/%25%32%65%25%32%65  | DOUBLE_ENCODING",
                "/100%25                | DOUBLE_ENCODING",
                "/a%3fb                 | ENCODED_SEPARATOR",
                "/a%23b                 | ENCODED_SEPARATOR",
                // backslashes
                "/a\\..\\admin          | BACKSLASH",
                "/a\\b                  | BACKSLASH",
                // invalid escapes
                "/a%                    | INVALID_ESCAPE",
                "/a%2                   | INVALID_ESCAPE",
                "/a%g1                  | INVALID_ESCAPE",
                "/a%zz/b                | INVALID_ESCAPE",
                "/a%u002e               | INVALID_ESCAPE",
                // control characters, encoded
                "/a%00b                 | CONTROL_CHARACTER",
                "/a%0d%0aSet-Cookie:x   | CONTROL_CHARACTER",
                "/a%7f                  | CONTROL_CHARACTER",
                "/a%c2%85               | CONTROL_CHARACTER",
                // malformed or overlong UTF-8
                "/a/%c0%ae%c0%ae/admin  | INVALID_UTF8",
                "/a%c0%af               | INVALID_UTF8",
                "/a%e0%80%ae            | INVALID_UTF8",
                "/a%ed%a0%80            | INVALID_UTF8",
                "/a%c3                  | INVALID_UTF8",
                "/a%c3%28               | INVALID_UTF8",
                "/a%80                  | INVALID_UTF8",
                "/a%f5%80%80%80         | INVALID_UTF8",
                // Unicode an upstream could normalise into something else (NFKC): fullwidth delimiters and letters,
                // ligatures,
                // decomposed accents
                "/a/%ef%bc%8e%ef%bc%8e/admin | CONFUSABLE_CHARACTER",
                "/a%ef%bc%8fb           | CONFUSABLE_CHARACTER",
                "/a%ef%bc%bcb           | CONFUSABLE_CHARACTER",
                "/%ef%bd%81dmin         | CONFUSABLE_CHARACTER",
                "/%ef%ac%81le           | CONFUSABLE_CHARACTER",
                "/cafe%cc%81            | CONFUSABLE_CHARACTER",
                // raw non-ASCII
                "/café                  | RAW_NON_ASCII",
                // empty segments
                "//admin                | EMPTY_SEGMENT",
                "/a//b                  | EMPTY_SEGMENT",
                "/a/;x/b                | EMPTY_SEGMENT",
                // fragments, non-origin forms
                "/a#frag                | FRAGMENT",
                "/a?x=1#frag            | FRAGMENT",
                "*                      | NOT_ORIGIN_FORM",
                "http://evil/admin      | NOT_ORIGIN_FORM",
                "admin                  | NOT_ORIGIN_FORM",
            })
    void refusedForms(String target, Problem expected) {
        CanonicalPath p = CanonicalPath.parse(target);
        assertThat(p.problem()).as(target).contains(expected);
        assertThat(p.path()).isEmpty();
        assertThat(p.rawPath()).doesNotContain("?");
    }

    /**
     * Published class "control characters in paths reaching audit rows and logs" (Envoy GHSA-p222-xhp9-39rc /
     * CVE-2024-45808, Envoy Gateway GHSA-mf24-chxh-hmvj / CVE-2025-25294): raw or encoded, they are refused.
     */
    @Test
    void controlCharactersInPaths_rawNulCrLfTabDel_areRefused() {
        for (char c : new char[] {0, 1, '\t', '\n', '\r', 0x1f, 0x7f}) {
            assertThat(CanonicalPath.parse("/a" + c + "b").problem())
                    .as("char %d", (int) c)
                    .contains(Problem.CONTROL_CHARACTER);
        }
    }

    @Test
    void pathParameters_areRemovedFromTheCanonicalPath_andFlagged() {
        CanonicalPath p = CanonicalPath.parse("/api;jsessionid=1/orders;v=2?x=1");
        assertThat(p.canonical()).isTrue();
        assertThat(p.hasParameters()).isTrue();
        assertThat(p.path()).isEqualTo("/api/orders");
        assertThat(p.rawPath()).isEqualTo("/api;jsessionid=1/orders;v=2");
    }
}
