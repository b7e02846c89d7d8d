package io.meshguard.dlp.detect;

import java.util.List;
import java.util.Optional;

/**
 * The detectors meshguard ships. Each is recognized by hand-written code in {@link BuiltinRecognizer} (a single pass
 * over the bytes for all of them) plus its validator; {@link #shape()} documents the format in regex notation.
 */
public enum BuiltinDetector {
    CARD(
            "card",
            "13-19 digits, plain or grouped by one space or dash; brand prefix+length; Luhn",
            List.of("card", "credit", "debit", "visa", "mastercard", "amex", "카드", "결제"),
            List.of("imei", "tracking", "order", "invoice", "isbn", "serial", "송장", "주문번호", "운송장")),
    KR_RRN(
            "kr_rrn",
            "YYMMDD-G######, G in 1-4; date valid; checksum raises confidence, never required",
            List.of("주민등록번호", "주민번호", "주민", "rrn", "resident registration", "생년월일"),
            List.of()),
    KR_FRN(
            "kr_frn",
            "YYMMDD-G######, G in 5-8; date valid",
            List.of("외국인등록번호", "외국인", "alien registration", "foreigner", "frn"),
            List.of()),
    KR_PHONE(
            "kr_phone",
            "01[016789]-###(#)-####, 02-###(#)-####, 0[3-6][1-5]-..., 070-..., +82 forms",
            List.of("전화", "연락처", "휴대폰", "핸드폰", "phone", "tel", "mobile", "contact"),
            List.of()),
    KR_BRN(
            "kr_brn",
            "###-##-##### with the business-number check digit",
            List.of("사업자", "사업자등록번호", "business registration", "brn", "법인"),
            List.of()),
    EMAIL("email", "local@domain.tld", List.of("email", "e-mail", "mail", "이메일", "메일"), List.of()),
    IBAN(
            "iban",
            "CCkk BBAN (country length table), optional spaces every 4; mod-97",
            List.of("iban", "account", "계좌"),
            List.of()),
    IPV4("ipv4", "four dotted octets 0-255", List.of("ip", "address", "host", "client"), List.of("version", "v.")),
    IPV6("ipv6", "eight hex groups or a '::' abbreviation", List.of("ip", "address", "ipv6"), List.of()),
    AWS_ACCESS_KEY("aws_access_key", "(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}", List.of("aws", "access"), List.of()),
    GCP_API_KEY("gcp_api_key", "AIza[0-9A-Za-z_-]{35}", List.of("google", "gcp", "api"), List.of()),
    GITHUB_TOKEN(
            "github_token", "gh[pousr]_[A-Za-z0-9]{36} | github_pat_[A-Za-z0-9_]{82}", List.of("github"), List.of()),
    SLACK_TOKEN("slack_token", "xox[abposr]-[A-Za-z0-9-]{10,} | xapp-[A-Za-z0-9-]{10,}", List.of("slack"), List.of()),
    STRIPE_KEY("stripe_key", "(sk|rk)_live_[A-Za-z0-9]{16,}", List.of("stripe"), List.of()),
    PRIVATE_KEY(
            "private_key",
            "-----BEGIN … PRIVATE KEY( BLOCK)?----- … -----END …----- | PuTTY-User-Key-File-[23]: … "
                    + "Private-Lines: … Private-MAC: … | a JSON Web Key's private member (\"d\", \"p\", \"k\"… of an object with a "
                    + "\"kty\") in any text",
            List.of(),
            List.of()),
    JWT(
            "jwt",
            "eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*",
            List.of("bearer", "token", "jwt"),
            List.of()),
    SECRET(
            "secret",
            "a 20-256 character token of letters and digits with entropy >= 3.5 bits/char",
            List.of(
                    "secret",
                    "token",
                    "password",
                    "passwd",
                    "pwd",
                    "api_key",
                    "apikey",
                    "api-key",
                    "access_key",
                    "private_key",
                    "credential",
                    "bearer",
                    "auth",
                    "비밀번호",
                    "토큰",
                    "암호"),
            List.of());

    private final String id;
    private final String shape;
    private final List<String> contextBoost;
    private final List<String> contextPenalty;

    BuiltinDetector(String id, String shape, List<String> contextBoost, List<String> contextPenalty) {
        this.id = id;
        this.shape = shape;
        this.contextBoost = contextBoost;
        this.contextPenalty = contextPenalty;
    }

    /** The name used in dlp.yaml and in audit events. */
    public String id() {
        return id;
    }

    public String shape() {
        return shape;
    }

    /** Words that raise confidence when near a match. */
    public List<String> contextBoost() {
        return contextBoost;
    }

    /** Words that lower confidence when near a match (e.g. "IMEI" near a Luhn-valid number). */
    public List<String> contextPenalty() {
        return contextPenalty;
    }

    public static Optional<BuiltinDetector> byId(String id) {
        for (BuiltinDetector d : values()) {
            if (d.id.equals(id)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
