package eventbank.server.http;

import eventbank.core.Idempotency;
import io.javalin.http.Context;

/**
 * A state-changing request's Idempotency-Key with the fingerprint of its route and body: a retry
 * with the same key and a different request is told apart by it (409 idempotency_key_reused).
 */
final class IdempotencyKeys {
    private final byte[] fingerprintKey;

    /** @param fingerprintKey the key of the fingerprints' HMAC, derived from the server key */
    IdempotencyKeys(byte[] fingerprintKey) {
        this.fingerprintKey = fingerprintKey;
    }

    static IdempotencyKeys derivedFrom(byte[] serverKey) {
        return new IdempotencyKeys(Keys.derive(serverKey, "eventbank idempotency fingerprint v1"));
    }

    /**
     * The Idempotency-Key with the fingerprint of this route and body, or null without the
     * header. The fingerprint names the route as journals already hold it ({@link Route#toString()}).
     */
    Idempotency of(Context ctx, Route route, String canonicalBody) {
        String key = Requests.idempotencyKey(ctx);
        return key == null ? null
                : new Idempotency(key, Keys.fingerprint(fingerprintKey, route.toString(), canonicalBody));
    }

    /**
     * An account opening's Idempotency-Key, without a fingerprint (or null without the header).
     * A fingerprint over the email and the password, kept in the journal for good, would let
     * anyone holding the server key test password guesses at HMAC speed rather than bcrypt's; a
     * retry is compared with the recorded opening's values instead ({@code AccountsController}).
     */
    Idempotency ofOpening(Context ctx) {
        String key = Requests.idempotencyKey(ctx);
        return key == null ? null : new Idempotency(key, Idempotency.NO_FINGERPRINT);
    }
}
