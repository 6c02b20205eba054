package eventbank.server.http;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keys derived from the server key, one per purpose (JWT signing, request fingerprints), so
 * that one use never yields a value valid for another.
 */
final class Keys {
    private Keys() {}

    static byte[] derive(byte[] serverKey, String purpose) {
        return hmac(serverKey, purpose.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] hmac(byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is missing from this JDK", e);
        }
    }

    /** base64url(HMAC-SHA256(key, route + "\n" + canonical body)): the Idempotency fingerprint. */
    static String fingerprint(byte[] fingerprintKey, String route, String canonicalBody) {
        byte[] mac = hmac(fingerprintKey, (route + "\n" + canonicalBody).getBytes(StandardCharsets.UTF_8));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(mac);
    }
}
