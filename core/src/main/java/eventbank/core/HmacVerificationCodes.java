package eventbank.core;

import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/** {@code HMAC-SHA256(server key, account number ‖ seq of AccountOpened)}, base64url. */
public final class HmacVerificationCodes implements VerificationCodes {
    private static final String ALGORITHM = "HmacSHA256";
    private final SecretKeySpec key;

    public HmacVerificationCodes(byte[] serverKey) {
        if (serverKey.length < 32) {
            throw new IllegalArgumentException("the server key must have at least 32 bytes");
        }
        this.key = new SecretKeySpec(serverKey.clone(), ALGORITHM);
    }

    @Override
    public String codeFor(long accountNumber, long openedSeq) {
        try {
            // A Mac is not thread-safe and cheap to make next to an HMAC computation.
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            byte[] digest = mac.doFinal(ByteBuffer.allocate(16).putLong(accountNumber).putLong(openedSeq).array());
            return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
