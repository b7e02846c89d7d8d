package io.meshguard.extauthz.quota;

import java.time.LocalDate;

/**
 * One counter: a quota, a caller and a period. The caller is {@code api_key:ID}, {@code tenant:NAME} or
 * {@code subject:ISSUER/SUBJECT} ({@link QuotaCallers}).
 */
public record QuotaKey(String quota, String caller, LocalDate periodStart) {}
