package eventbank.server.http;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import eventbank.server.json.JsonBody;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * The holders' bearer tokens: JWT, HS256 only, signed with a key derived from the server key,
 * subject the account number, with an expiry. Anything else (another algorithm, {@code alg:
 * none}, a bad signature, no or past expiry) is refused.
 */
final class Tokens {
    private static final String ISSUER = "eventbank";

    private final byte[] key;
    private final Duration ttl;
    private final Clock clock;
    private final MACSigner signer;
    private final MACVerifier verifier;

    Tokens(byte[] serverKey, Duration ttl, Clock clock) {
        this.key = Keys.derive(serverKey, "eventbank jwt hs256 v1");
        this.ttl = ttl;
        this.clock = clock;
        try {
            this.signer = new MACSigner(key);
            this.verifier = new MACVerifier(key);
        } catch (JOSEException e) {
            throw new IllegalStateException("the JWT key is unusable", e);
        }
    }

    record Issued(String token, Instant expiresAt) {}

    Issued issue(long accountNumber) {
        Instant now = clock.instant();
        Instant expiresAt = now.plus(ttl);
        JWTClaimsSet claims = new JWTClaimsSet.Builder()
                .issuer(ISSUER)
                .subject(Long.toString(accountNumber))
                .issueTime(Date.from(now))
                .expirationTime(Date.from(expiresAt))
                .build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException("signing a token failed", e);
        }
        return new Issued(jwt.serialize(), Instant.ofEpochSecond(expiresAt.getEpochSecond()));
    }

    /**
     * A token already verified: its account and expiry in milliseconds since the epoch (checking a
     * signature is a third of a request's cost). The expiry is a whole second (a JWT's {@code exp}),
     * so comparing it with the clock's milliseconds decides as comparing instants would, without
     * the instant's allocation and finer reading of the clock a request.
     */
    private record Verified(long accountNumber, long expiresAtMillis) {}

    private static final int CACHE_MAX = 100_000;
    private final java.util.concurrent.ConcurrentHashMap<String, Verified> cache =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** The account number the token was issued to; an {@link ApiException} 401 otherwise. */
    long verify(String token) {
        Verified cached = cache.get(token);
        if (cached != null) {
            if (cached.expiresAtMillis() > clock.millis()) {
                return cached.accountNumber();
            }
            cache.remove(token);
            throw invalid("The token has expired; log in again.");
        }
        Verified verified = verifyUncached(token);
        if (cache.size() >= CACHE_MAX) {
            cache.clear(); // crude but bounded: tokens live minutes, a miss only costs one check
        }
        cache.put(token, verified);
        return verified.accountNumber();
    }

    private Verified verifyUncached(String token) {
        try {
            SignedJWT jwt = SignedJWT.parse(token);
            if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm()) || !jwt.verify(verifier)) {
                throw invalid("The token's signature is not valid.");
            }
            JWTClaimsSet claims = jwt.getJWTClaimsSet();
            Date expiry = claims.getExpirationTime();
            if (expiry == null || !expiry.toInstant().isAfter(clock.instant())) {
                throw invalid("The token has expired; log in again.");
            }
            if (!ISSUER.equals(claims.getIssuer())) {
                throw invalid("The token was not issued by this server.");
            }
            long number = JsonBody.parseAccountNumber(claims.getSubject());
            if (number < 0) {
                throw invalid("The token names no account.");
            }
            return new Verified(number, expiry.getTime());
        } catch (ParseException | JOSEException | RuntimeException e) {
            if (e instanceof ApiException api) {
                throw api;
            }
            throw invalid("The token is not a valid HS256 JWT.");
        }
    }

    private static ApiException invalid(String message) {
        return new ApiException(401, "invalid_token", message);
    }
}
