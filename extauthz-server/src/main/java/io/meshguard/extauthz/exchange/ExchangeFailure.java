package io.meshguard.extauthz.exchange;

import io.meshguard.authz.request.Reason;

/**
 * Why no exchanged token could be had, by class: the class decides the deny's status and is the metric's
 * {@code result}. The message names no token.
 */
public final class ExchangeFailure extends RuntimeException {
    /** What went wrong, and what the caller is answered. */
    public enum Kind {
        /** The identity provider refused this caller's token for this audience (400/403 with an OAuth error). */
        REFUSED("refused", Reason.TOKEN_EXCHANGE_REFUSED),
        /**
         * The identity provider refused meshguard's own client ({@code invalid_client}, {@code unauthorized_client}, any
         * 401): a wrong secret or a client not allowed to exchange, an operator's fix, not the caller's fault.
         */
        CLIENT_REJECTED("client_rejected", Reason.TOKEN_EXCHANGE_UNAVAILABLE),
        /** No connection to the token endpoint. */
        UNREACHABLE("unreachable", Reason.TOKEN_EXCHANGE_UNAVAILABLE),
        /** No answer within {@code token_exchange.timeout}. */
        TIMEOUT("timeout", Reason.TOKEN_EXCHANGE_UNAVAILABLE),
        /** A 5xx, or another status no OAuth server answers an exchange with. */
        IDP_ERROR("idp_error", Reason.TOKEN_EXCHANGE_UNAVAILABLE),
        /**
         * A 200 whose token is not a JWT access token for the asked audience and the caller's subject, or already
         * expired: never sent upstream.
         */
        BAD_RESPONSE("bad_response", Reason.TOKEN_EXCHANGE_UNAVAILABLE),
        /** No endpoint, client or secret configured, or the secret file unreadable. */
        NOT_CONFIGURED("not_configured", Reason.TOKEN_EXCHANGE_UNAVAILABLE);

        private final String result;
        private final Reason reason;

        Kind(String result, Reason reason) {
            this.result = result;
            this.reason = reason;
        }

        /** The metric's {@code result} label and the decision row's {@code token_exchange}. */
        public String result() {
            return result;
        }

        public Reason reason() {
            return reason;
        }
    }

    private final Kind kind;

    public ExchangeFailure(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
