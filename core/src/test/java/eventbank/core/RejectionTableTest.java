package eventbank.core;

import static eventbank.core.Scenario.key;
import static eventbank.core.Scenario.open;
import static eventbank.core.Scenario.opened;
import static eventbank.core.Scenario.transfer;
import static eventbank.core.Scenario.transferred;
import static eventbank.core.Scenario.verified;
import static eventbank.core.Scenario.verify;
import static eventbank.core.Scenario.withdraw;
import static eventbank.core.Scenario.withdrawn;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One row per way to be refused, every row starting from the same small history; then the
 * edges around the rules: a balance reaching zero, and the life of an idempotency key.
 */
class RejectionTableTest {
    private static final long ALICE = 4_111_2222_3333_4444L;
    private static final long BOB = 5_222_3333_4444_5555L;
    private static final long CAROL = 6_333_4444_5555_6666L;
    private static final long NOBODY = 7_444_5555_6666_7777L;
    private static final long DAVE = 8_555_6666_7777_8888L;

    private static final Idempotency ALICE_WITHDRAWAL_KEY = key("alice-key-1", "fp-withdraw-100");
    private static final Idempotency BOB_OPENING_KEY = key("open-bob", "fp-open-bob");

    /**
     * Alice (verified, $999.00 after withdrawing $1.00 with a key), Bob (verified, opened with
     * a key) and Carol (not verified), opened at seq 1, 2 and 3. NOBODY was never opened.
     */
    private static Scenario history() {
        return new Scenario().given(
                opened(ALICE, "alice@example.com"),
                opened(BOB, "bob@example.com", BOB_OPENING_KEY),
                opened(CAROL, "carol@example.com"),
                verified(ALICE),
                verified(BOB),
                withdrawn(ALICE, 1_00, ALICE_WITHDRAWAL_KEY));
    }

    private static final long ALICE_BALANCE = 999_00;
    private static final long ALICE_WITHDRAWAL_SEQ = 6;

    /** A row of the table: the command, sent after {@link #history()}, and why it is refused. */
    record Row(String name, Command command, Rejection expected) {
        @Override
        public String toString() {
            return expected + ": " + name;
        }
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        addOpeningRows(rows);
        addVerificationRows(rows);
        addAmountRows(rows);
        addAccountRows(rows);
        addIdempotencyRows(rows);
        return rows;
    }

    private static void addOpeningRows(List<Row> rows) {
        List<String> invalidEmails = new ArrayList<>(List.of("", "alice", "alice.example.com", "@example.com",
                "alice@", "alice@@example.com", "al@ce@example.com", "alice@example", "alice@.example.com",
                "alice@example.com.", "alice@example..com", "al ice@example.com", "alice@exa\tmple.com",
                "alice@example.com\n", "a@b.", "alice@example.com\u0000", "ali\u2003ce@example.com"));
        invalidEmails.add("a".repeat(243) + "@example.com");
        for (String email : invalidEmails) {
            rows.add(new Row("email \"" + printable(email) + "\"", open(DAVE, email), Rejection.EMAIL_INVALID));
        }
        rows.add(new Row("email null", open(DAVE, null), Rejection.EMAIL_INVALID));
        rows.add(new Row("email of Alice", open(DAVE, "alice@example.com"), Rejection.EMAIL_TAKEN));
        rows.add(new Row("email of Alice in capitals", open(DAVE, "ALICE@EXAMPLE.COM"), Rejection.EMAIL_TAKEN));
        rows.add(new Row("email of Alice in mixed case", open(DAVE, "Alice@Example.Com"), Rejection.EMAIL_TAKEN));
        long[] badNumbers = {ALICE, BOB, 999_999_999_999_999L, 10_000_000_000_000_000L, 0, -ALICE,
                Long.MIN_VALUE, Long.MAX_VALUE};
        for (long number : badNumbers) {
            rows.add(new Row("account number " + number, open(number, "dave@example.com"),
                    Rejection.ACCOUNT_NUMBER_TAKEN));
        }
        for (long balance : new long[] {-1, Long.MIN_VALUE, Limits.AMOUNT_MAX + 1, Long.MAX_VALUE}) {
            rows.add(new Row("opening balance " + balance,
                    new Command.OpenAccount(DAVE, "dave@example.com", "hash", balance, null),
                    Rejection.OPENING_BALANCE_INVALID));
        }
        rows.add(new Row("password hash null", new Command.OpenAccount(DAVE, "dave@example.com", null,
                Limits.OPENING_BALANCE_DEFAULT, null), Rejection.PASSWORD_HASH_MISSING));
        rows.add(new Row("password hash empty", new Command.OpenAccount(DAVE, "dave@example.com", "",
                Limits.OPENING_BALANCE_DEFAULT, null), Rejection.PASSWORD_HASH_MISSING));
    }

    private static void addVerificationRows(List<Row> rows) {
        VerificationCodes otherServer = new HmacVerificationCodes(
                "another-server-key-of-32-bytes!!".getBytes(StandardCharsets.US_ASCII));
        String carolsCode = Scenario.CODES.codeFor(CAROL, 3);
        rows.add(new Row("verify an unknown account", verify(NOBODY, carolsCode), Rejection.ACCOUNT_NOT_FOUND));
        rows.add(new Row("code of another account", verify(CAROL, Scenario.CODES.codeFor(BOB, 2)),
                Rejection.WRONG_CODE));
        rows.add(new Row("code for another opening seq", verify(CAROL, Scenario.CODES.codeFor(CAROL, 4)),
                Rejection.WRONG_CODE));
        rows.add(new Row("code of another server key", verify(CAROL, otherServer.codeFor(CAROL, 3)),
                Rejection.WRONG_CODE));
        rows.add(new Row("code with one character changed", verify(CAROL, changeFirstCharacter(carolsCode)),
                Rejection.WRONG_CODE));
        rows.add(new Row("code cut short", verify(CAROL, carolsCode.substring(1)), Rejection.WRONG_CODE));
        rows.add(new Row("code empty", verify(CAROL, ""), Rejection.WRONG_CODE));
        rows.add(new Row("code null", verify(CAROL, null), Rejection.WRONG_CODE));
        rows.add(new Row("wrong code on a verified account", verify(ALICE, carolsCode), Rejection.WRONG_CODE));
    }

    private static void addAmountRows(List<Row> rows) {
        for (long amount : new long[] {0, -1, -1_000_00, Long.MIN_VALUE}) {
            rows.add(new Row("withdraw " + amount, withdraw(ALICE, amount), Rejection.AMOUNT_NOT_POSITIVE));
            rows.add(new Row("transfer " + amount, transfer(ALICE, BOB, amount), Rejection.AMOUNT_NOT_POSITIVE));
        }
        for (long amount : new long[] {Limits.AMOUNT_MAX + 1, Long.MAX_VALUE}) {
            rows.add(new Row("withdraw " + amount, withdraw(ALICE, amount), Rejection.AMOUNT_TOO_LARGE));
            rows.add(new Row("transfer " + amount, transfer(ALICE, BOB, amount), Rejection.AMOUNT_TOO_LARGE));
        }
        for (long amount : new long[] {ALICE_BALANCE + 1, Limits.AMOUNT_MAX}) {
            rows.add(new Row("withdraw " + amount, withdraw(ALICE, amount), Rejection.INSUFFICIENT_FUNDS));
            rows.add(new Row("transfer " + amount, transfer(ALICE, BOB, amount), Rejection.INSUFFICIENT_FUNDS));
        }
    }

    private static void addAccountRows(List<Row> rows) {
        rows.add(new Row("withdraw from an unknown account", withdraw(NOBODY, 1_00), Rejection.ACCOUNT_NOT_FOUND));
        rows.add(new Row("transfer from an unknown account", transfer(NOBODY, BOB, 1_00),
                Rejection.ACCOUNT_NOT_FOUND));
        rows.add(new Row("transfer to an unknown account", transfer(ALICE, NOBODY, 1_00),
                Rejection.RECIPIENT_NOT_FOUND));
        rows.add(new Row("transfer to oneself", transfer(ALICE, ALICE, 1_00), Rejection.SAME_ACCOUNT));
        rows.add(new Row("unverified transfers to oneself", transfer(CAROL, CAROL, 1_00), Rejection.SAME_ACCOUNT));
        rows.add(new Row("withdraw unverified", withdraw(CAROL, 1_00), Rejection.ACCOUNT_NOT_VERIFIED));
        rows.add(new Row("transfer from unverified", transfer(CAROL, ALICE, 1_00), Rejection.ACCOUNT_NOT_VERIFIED));
        rows.add(new Row("transfer to unverified", transfer(ALICE, CAROL, 1_00), Rejection.RECIPIENT_NOT_VERIFIED));
    }

    private static void addIdempotencyRows(List<Row> rows) {
        Idempotency sameKeyOtherRequest = key(ALICE_WITHDRAWAL_KEY.key(), "fp-withdraw-200");
        rows.add(new Row("withdrawal key reused for another withdrawal", withdraw(ALICE, 2_00, sameKeyOtherRequest),
                Rejection.IDEMPOTENCY_KEY_REUSED));
        rows.add(new Row("withdrawal key reused for a transfer", transfer(ALICE, BOB, 1_00,
                key(ALICE_WITHDRAWAL_KEY.key(), "fp-transfer")), Rejection.IDEMPOTENCY_KEY_REUSED));
        rows.add(new Row("opening key reused for another opening", open(DAVE, "dave@example.com",
                key(BOB_OPENING_KEY.key(), "fp-open-dave")), Rejection.IDEMPOTENCY_KEY_REUSED));
    }

    private static String changeFirstCharacter(String code) {
        return (code.charAt(0) == 'A' ? "B" : "A") + code.substring(1);
    }

    private static String printable(String text) {
        return text.length() > 40 ? text.substring(0, 20) + "...(" + text.length() + " characters)"
                : text.replace("\t", "\\t").replace("\n", "\\n").replace("\u0000", "\\0").replace("\u2003", "\\u2003");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void refuses(Row row) {
        history().when(row.command()).thenRejected(row.expected());
    }

    @Test
    void everyRejectionHasARow() {
        Set<Rejection> covered = rows().stream().map(Row::expected).collect(Collectors.toSet());
        assertThat(covered).as("a new Rejection constant needs a row in this table")
                .containsExactlyInAnyOrderElementsOf(EnumSet.allOf(Rejection.class));
    }

    // ---- The edges that are accepted ----

    @Test
    void theLongestEmailAddressIsAccepted() {
        String email = "a".repeat(242) + "@example.com";
        assertThat(email).hasSize(Limits.EMAIL_LENGTH_MAX);
        history().when(open(DAVE, email)).thenEvents(opened(DAVE, email));
    }

    @Test
    void aBalanceMayReachExactlyZero() {
        Scenario scenario = history()
                .when(withdraw(ALICE, ALICE_BALANCE)).thenEvents(withdrawn(ALICE, ALICE_BALANCE))
                .when(transfer(BOB, ALICE, 1_000_00)).thenEvents(transferred(BOB, ALICE, 1_000_00));

        assertThat(scenario.balanceOf(BOB)).isZero();
        assertThat(scenario.balanceOf(ALICE)).isEqualTo(1_000_00);
        scenario.when(withdraw(BOB, 1)).thenRejected(Rejection.INSUFFICIENT_FUNDS);
        assertThat(scenario.bank().checkInvariant()).isNull();
    }

    @Test
    void theLargestAmountIsAcceptedWhenTheBalanceCoversIt() {
        long max = Limits.AMOUNT_MAX;
        new Scenario()
                .given(new Event.AccountOpened(DAVE, "dave@example.com", "hash", max, null), verified(DAVE))
                .when(withdraw(DAVE, max)).thenEvents(withdrawn(DAVE, max));
    }

    // ---- Idempotency keys ----

    @Test
    void theSameKeyWithTheSameRequestIsAnsweredWithTheFirstOutcome() {
        Scenario scenario = history();
        long lastSeq = scenario.lastSeq();

        scenario.when(withdraw(ALICE, 1_00, ALICE_WITHDRAWAL_KEY)).thenReplayed(ALICE_WITHDRAWAL_SEQ);
        scenario.when(open(DAVE, "bob@example.com", BOB_OPENING_KEY)).thenReplayed(2);

        assertThat(scenario.lastSeq()).isEqualTo(lastSeq);
        assertThat(scenario.balanceOf(ALICE)).isEqualTo(ALICE_BALANCE);
    }

    @Test
    void aRejectedCommandDoesNotConsumeItsKey() {
        Idempotency bobsKey = key("bob-key", "fp-withdraw-1500");
        Scenario scenario = history()
                .when(withdraw(BOB, 1_500_00, bobsKey)).thenRejected(Rejection.INSUFFICIENT_FUNDS)
                .when(transfer(ALICE, BOB, 500_00)).thenEvents(transferred(ALICE, BOB, 500_00))
                // The client retries the same request with the same key, and now it fits.
                .when(withdraw(BOB, 1_500_00, bobsKey)).thenEvents(withdrawn(BOB, 1_500_00, bobsKey));
        long withdrawalSeq = scenario.lastSeq();

        scenario.when(withdraw(BOB, 1_500_00, bobsKey)).thenReplayed(withdrawalSeq);
        assertThat(scenario.balanceOf(BOB)).isZero();
    }

    @Test
    void keysExpireAfterTheWindowAndCanThenBeUsedAgain() {
        long window = 60_000_000;
        Idempotency first = key("daily", "fp-withdraw-100");
        Idempotency second = key("daily", "fp-withdraw-200");
        Scenario scenario = Scenario.withIdempotencyWindow(window)
                .given(opened(ALICE, "alice@example.com"), verified(ALICE))
                .when(withdraw(ALICE, 1_00, first)).thenEvents(withdrawn(ALICE, 1_00, first));
        long firstSeq = scenario.lastSeq();

        // A key is still remembered at the very end of its window...
        scenario.advanceClock(window)
                .when(withdraw(ALICE, 1_00, first)).thenReplayed(firstSeq)
                .when(withdraw(ALICE, 2_00, second)).thenRejected(Rejection.IDEMPOTENCY_KEY_REUSED);
        // ...and forgotten one microsecond later, for the same request as for another.
        scenario.advanceClock(1)
                .when(withdraw(ALICE, 2_00, second)).thenEvents(withdrawn(ALICE, 2_00, second))
                .when(withdraw(ALICE, 2_00, second)).thenReplayed(scenario.lastSeq());
        scenario.advanceClock(window + 1)
                .when(withdraw(ALICE, 1_00, first)).thenEvents(withdrawn(ALICE, 1_00, first));

        assertThat(scenario.balanceOf(ALICE)).isEqualTo(1_000_00 - 1_00 - 2_00 - 1_00);
    }

    @Test
    void keysAreScopedPerAccount() {
        Scenario scenario = history()
                .when(withdraw(BOB, 5_00, key(ALICE_WITHDRAWAL_KEY.key(), "fp-bob")))
                .thenEvents(withdrawn(BOB, 5_00, key(ALICE_WITHDRAWAL_KEY.key(), "fp-bob")));
        long bobsSeq = scenario.lastSeq();

        scenario.when(withdraw(BOB, 5_00, key(ALICE_WITHDRAWAL_KEY.key(), "fp-bob"))).thenReplayed(bobsSeq)
                .when(withdraw(ALICE, 1_00, ALICE_WITHDRAWAL_KEY)).thenReplayed(ALICE_WITHDRAWAL_SEQ)
                // Opening accounts is a scope of its own, apart from every account's.
                .when(open(DAVE, "dave@example.com", key(ALICE_WITHDRAWAL_KEY.key(), "fp-open-dave")))
                .thenEvents(opened(DAVE, "dave@example.com", key(ALICE_WITHDRAWAL_KEY.key(), "fp-open-dave")));
    }
}
