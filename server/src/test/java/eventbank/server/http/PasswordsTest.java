package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import at.favre.lib.crypto.bcrypt.BCrypt;
import org.junit.jupiter.api.Test;

/** bcrypt as the server uses it, and the hash an unknown account's login is checked against. */
class PasswordsTest {
    private static final int COST = 6;

    @Test
    void aPasswordMatchesItsOwnHashOnly() {
        Passwords passwords = new Passwords(COST);
        String hash = passwords.hash("correct horse battery");

        assertThat(hash).startsWith("$2a$06$");
        assertThat(passwords.matches("correct horse battery", hash)).isTrue();
        assertThat(passwords.matches("correct horse battery!", hash)).isFalse();
    }

    @Test
    void aPasswordLongerThanBcryptsLimitIsNotCutShort() {
        Passwords passwords = new Passwords(COST);
        String longPassword = "p".repeat(100);
        String hash = passwords.hash(longPassword);

        assertThat(passwords.matches(longPassword, hash)).isTrue();
        assertThat(passwords.matches("p".repeat(99) + "q", hash)).isFalse();
    }

    /**
     * The dummy hash is made cheaply, but checking against it must cost what checking against a
     * real hash at the configured cost does: the verifier reads that cost from it.
     */
    @Test
    void theDummyHashNamesTheConfiguredCostAndMatchesNoPassword() {
        for (int cost : new int[] {4, 6, 12, 31}) {
            String dummy = Passwords.dummyHashOf(cost);
            assertThat(dummy).hasSize(60).startsWith(String.format("$2a$%02d$", cost));
        }
        String dummy = Passwords.dummyHashOf(COST);
        BCrypt.Result result = BCrypt.verifyer().verify("not a password of anyone".toCharArray(), dummy);
        assertThat(result.validFormat).isTrue();
        assertThat(result.details.cost).isEqualTo(COST);
        assertThat(result.verified).isFalse();

        Passwords passwords = new Passwords(COST);
        assertThat(passwords.matches("not a password of anyone", null)).isFalse();
        assertThat(passwords.matches("", null)).isFalse();
    }
}
