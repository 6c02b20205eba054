package eventbank.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * The code in a verification link. Links already mailed must keep working after an upgrade,
 * so the derivation is pinned by a known answer, not only by agreeing with itself.
 */
class HmacVerificationCodesTest {
    private static final long ACCOUNT = 4_111_2222_3333_4444L;
    /**
     * Computed outside Java: in Python, urlsafe_b64encode(hmac.new(key, struct.pack(">qq",
     * 4111222233334444, 1), sha256).digest()) without its "=" padding.
     */
    private static final String KNOWN_ANSWER = "OUhqPBivfFQe12WBYT_0f4GBavZn--RFoJsyC4gQTwk";

    @Test
    void theCodeIsTheHmacOfTheAccountNumberAndItsOpeningSeq() {
        String code = Scenario.CODES.codeFor(ACCOUNT, 1);

        assertThat(code).isEqualTo(KNOWN_ANSWER);
        assertThat(code).isEqualTo(new ReferenceBank(Scenario.SERVER_KEY, 1).codeFor(ACCOUNT, 1));
        assertThat(code).hasSize(43).matches("[A-Za-z0-9_-]+");
    }

    @Test
    void theCodeChangesWithTheAccountTheSeqAndTheKey() {
        byte[] anotherServerKey = "another-server-key-of-32-bytes!!".getBytes(StandardCharsets.US_ASCII);
        VerificationCodes otherKey = new HmacVerificationCodes(anotherServerKey);
        String code = Scenario.CODES.codeFor(ACCOUNT, 1);

        assertThat(Scenario.CODES.codeFor(ACCOUNT + 1, 1)).isNotEqualTo(code);
        assertThat(Scenario.CODES.codeFor(ACCOUNT, 2)).isNotEqualTo(code);
        assertThat(otherKey.codeFor(ACCOUNT, 1)).isNotEqualTo(code);
    }

    @Test
    void onlyTheExactCodeMatches() {
        String code = Scenario.CODES.codeFor(ACCOUNT, 1);

        assertThat(Scenario.CODES.matches(ACCOUNT, 1, code)).isTrue();
        assertThat(Scenario.CODES.matches(ACCOUNT, 1, code + "=")).isFalse();
        assertThat(Scenario.CODES.matches(ACCOUNT, 1, code.toUpperCase(Locale.ROOT))).isFalse();
        assertThat(Scenario.CODES.matches(ACCOUNT, 1, "")).isFalse();
        assertThat(Scenario.CODES.matches(ACCOUNT, 1, null)).isFalse();
    }

    @Test
    void refusesAShortServerKey() {
        assertThatIllegalArgumentException().isThrownBy(() -> new HmacVerificationCodes(new byte[31]));
    }
}
