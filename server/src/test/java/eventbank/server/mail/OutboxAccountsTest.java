package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The outbox's state in primitive arrays: added, found, changed, grown, listed in order. */
class OutboxAccountsTest {
    private static final long FIRST = 1_000_000_000_000_001L;

    private record Listed(long number, long balance, String email) {}

    private static List<Listed> listed(OutboxAccounts accounts) throws IOException {
        List<Listed> all = new ArrayList<>();
        accounts.forEach((number, balance, emails, from, length) ->
                all.add(new Listed(number, balance, new String(emails, from, length, StandardCharsets.UTF_8))));
        return all;
    }

    @Test
    void accountsAreFoundByNumberAndListedInTheOrderAdded() throws IOException {
        OutboxAccounts accounts = new OutboxAccounts();
        // Enough to grow every array several times over, numbers both sequential and scattered.
        int count = 5_000;
        for (int i = 0; i < count; i++) {
            long number = i % 2 == 0 ? FIRST + i : 9_000_000_000_000_000L - 7_919L * i;
            assertThat(accounts.add(number, "user" + i + "@example.com", 100_000 + i)).isEqualTo(i);
        }
        assertThat(accounts.size()).isEqualTo(count);
        for (int i = 0; i < count; i++) {
            long number = i % 2 == 0 ? FIRST + i : 9_000_000_000_000_000L - 7_919L * i;
            int row = accounts.rowOf(number);
            assertThat(row).isEqualTo(i);
            assertThat(accounts.email(row)).isEqualTo("user" + i + "@example.com");
            assertThat(accounts.balance(row)).isEqualTo(100_000 + i);
        }
        assertThat(accounts.rowOf(FIRST + 1)).isEqualTo(OutboxAccounts.ABSENT);
        assertThat(accounts.rowOf(0)).isEqualTo(OutboxAccounts.ABSENT);

        List<Listed> all = listed(accounts);
        assertThat(all).hasSize(count);
        assertThat(all.get(0)).isEqualTo(new Listed(FIRST, 100_000, "user0@example.com"));
        assertThat(all.get(count - 1).email()).isEqualTo("user" + (count - 1) + "@example.com");
    }

    @Test
    void anAccountIsAddedOnceAndItsBalanceChanges() {
        OutboxAccounts accounts = new OutboxAccounts();
        int row = accounts.add(FIRST, "ann@example.com", 100_000);

        assertThat(accounts.add(FIRST, "other@example.com", 5)).isEqualTo(OutboxAccounts.ABSENT);
        assertThat(accounts.email(row)).isEqualTo("ann@example.com");
        accounts.setBalance(row, 99_000);
        assertThat(accounts.balance(accounts.rowOf(FIRST))).isEqualTo(99_000);
    }

    @Test
    void aForgottenHoldersEmailIsZeroedAndReadsAsNone() throws IOException {
        OutboxAccounts accounts = new OutboxAccounts();
        accounts.add(FIRST, "ann@example.com", 100_000);
        int bob = accounts.add(FIRST + 1, "bob@example.com", 100_000);
        accounts.add(FIRST + 2, "cy@example.com", 100_000);

        accounts.eraseEmail(bob);

        assertThat(accounts.email(bob)).isEmpty();
        assertThat(accounts.email(0)).isEqualTo("ann@example.com");
        assertThat(accounts.email(2)).isEqualTo("cy@example.com");
        assertThat(listed(accounts)).containsExactly(new Listed(FIRST, 100_000, "ann@example.com"),
                new Listed(FIRST + 1, 100_000, ""), new Listed(FIRST + 2, 100_000, "cy@example.com"));
        List<byte[]> arrays = new ArrayList<>();
        accounts.forEach((number, balance, emails, from, length) -> arrays.add(emails));
        assertThat(new String(arrays.get(0), StandardCharsets.ISO_8859_1)).doesNotContain("bob@example.com");
    }

    @Test
    void emailsKeepTheirUtf8AndAnyLength() {
        OutboxAccounts accounts = new OutboxAccounts();
        String accented = "zoë.ünïcødé@exämple.com";
        String longOne = "a".repeat(40_000) + "@example.com";
        accounts.add(FIRST, accented, 1);
        accounts.add(FIRST + 1, longOne, 2);
        accounts.add(FIRST + 2, "", 3);

        assertThat(accounts.email(0)).isEqualTo(accented);
        assertThat(accounts.email(1)).isEqualTo(longOne);
        assertThat(accounts.email(2)).isEmpty();
    }
}
