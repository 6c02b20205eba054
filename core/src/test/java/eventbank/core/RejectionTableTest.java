package eventbank.core;

import static eventbank.core.Rejection.ACCOUNT_NOT_FOUND;
import static eventbank.core.Rejection.ACCOUNT_NOT_VERIFIED;
import static eventbank.core.Rejection.ACCOUNT_NUMBER_TAKEN;
import static eventbank.core.Rejection.AMOUNT_NOT_POSITIVE;
import static eventbank.core.Rejection.AMOUNT_TOO_LARGE;
import static eventbank.core.Rejection.BATCH_SIZE_INVALID;
import static eventbank.core.Rejection.EMAIL_INVALID;
import static eventbank.core.Rejection.EMAIL_TAKEN;
import static eventbank.core.Rejection.IDEMPOTENCY_KEY_REUSED;
import static eventbank.core.Rejection.INSUFFICIENT_FUNDS;
import static eventbank.core.Rejection.OPENING_BALANCE_INVALID;
import static eventbank.core.Rejection.PASSWORD_HASH_INVALID;
import static eventbank.core.Rejection.RECIPIENT_NOT_FOUND;
import static eventbank.core.Rejection.RECIPIENT_NOT_VERIFIED;
import static eventbank.core.Rejection.SAME_ACCOUNT;
import static eventbank.core.Rejection.WRONG_CODE;
import static eventbank.core.Scenario.key;
import static eventbank.core.Scenario.open;
import static eventbank.core.Scenario.opened;
import static eventbank.core.Scenario.transfer;
import static eventbank.core.Scenario.transferAll;
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
    /** Closed at the end of the history, forfeiting its bonus. */
    private static final long ERIN = 9_666_7777_8888_9999L;
    /** Opened sealed at the end of the history, still open. */
    private static final long FRANK = 9_777_8888_9999_0000L;

    private static final Idempotency ALICE_WITHDRAWAL_KEY = key("alice-key-1", "fp-withdraw-100");
    private static final Idempotency BOB_OPENING_KEY = key("open-bob", "fp-open-bob");
    private static final long ALICE_BALANCE = 999_00;
    private static final long ALICE_WITHDRAWAL_SEQ = 6;

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
                withdrawn(ALICE, 1_00, ALICE_WITHDRAWAL_KEY),
                opened(ERIN, "erin@example.com"),
                new Event.AccountClosed(ERIN, Limits.OPENING_BALANCE_DEFAULT),
                Scenario.sealedOpened(FRANK, "frank@example.com"));
    }

    /** A row of the table: the command, sent after {@link #history()}, and why it is refused. */
    record Row(String name, Command command, Rejection expected, int index) {
        Row(String name, Command command, Rejection expected) {
            this(name, command, expected, -1);
        }

        @Override
        public String toString() {
            return expected + ": " + name;
        }
    }

    private static Row row(String name, Command command, Rejection expected) {
        return new Row(name, command, expected);
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        addOpeningRows(rows);
        addVerificationRows(rows);
        addAmountRows(rows);
        addAccountRows(rows);
        addIdempotencyRows(rows);
        addBatchRows(rows);
        addClosingRows(rows);
        return rows;
    }

    /** Closed accounts, and closing and forgetting. */
    private static void addClosingRows(List<Row> rows) {
        rows.add(row("close with money in it", new Command.CloseAccount(ALICE), Rejection.BALANCE_NOT_ZERO));
        rows.add(row("close twice", new Command.CloseAccount(ERIN), Rejection.ACCOUNT_CLOSED));
        rows.add(row("close an unknown account", new Command.CloseAccount(NOBODY), ACCOUNT_NOT_FOUND));
        rows.add(row("withdraw from a closed account", withdraw(ERIN, 1), Rejection.ACCOUNT_CLOSED));
        rows.add(row("transfer from a closed account", transfer(ERIN, ALICE, 1), Rejection.ACCOUNT_CLOSED));
        rows.add(row("transfer to a closed account", transfer(ALICE, ERIN, 1), Rejection.RECIPIENT_CLOSED));
        rows.add(new Row("batch to a closed account", transferAll(ALICE, null, BOB, 1, ERIN, 1),
                Rejection.RECIPIENT_CLOSED, 1));
        rows.add(row("forget an open account", new Command.ForgetAccount(FRANK), Rejection.ACCOUNT_NOT_CLOSED));
        rows.add(row("forget one recorded before sealing", new Command.ForgetAccount(ERIN),
                Rejection.ACCOUNT_NOT_FORGETTABLE));
        rows.add(row("forget an unknown account", new Command.ForgetAccount(NOBODY), ACCOUNT_NOT_FOUND));
    }

    /** All-or-none batches: the first transfer refused names its index; the rest is as for one transfer. */
    private static void addBatchRows(List<Row> rows) {
        rows.add(new Row("batch of no transfers", transferAll(ALICE, null), BATCH_SIZE_INVALID, -1));
        long[] tooMany = new long[2 * (Limits.BATCH_TRANSFERS_MAX + 1)];
        for (int i = 0; i < tooMany.length; i += 2) {
            tooMany[i] = BOB;
            tooMany[i + 1] = 1;
        }
        rows.add(new Row("batch of 1,001 transfers", transferAll(ALICE, null, tooMany), BATCH_SIZE_INVALID, -1));
        rows.add(new Row("batch with a zero amount second", transferAll(ALICE, null, BOB, 1_00, BOB, 0),
                AMOUNT_NOT_POSITIVE, 1));
        rows.add(new Row("batch with too large an amount", transferAll(ALICE, null, BOB, Limits.AMOUNT_MAX + 1),
                AMOUNT_TOO_LARGE, 0));
        rows.add(new Row("batch from an unknown account", transferAll(NOBODY, null, BOB, 1_00),
                ACCOUNT_NOT_FOUND, 0));
        rows.add(new Row("batch to an unknown account third", transferAll(ALICE, null, BOB, 1, BOB, 1, NOBODY, 1),
                RECIPIENT_NOT_FOUND, 2));
        rows.add(new Row("batch to oneself", transferAll(ALICE, null, BOB, 1, ALICE, 1), SAME_ACCOUNT, 1));
        rows.add(new Row("batch from unverified", transferAll(CAROL, null, ALICE, 1), ACCOUNT_NOT_VERIFIED, 0));
        rows.add(new Row("batch to unverified", transferAll(ALICE, null, BOB, 1, CAROL, 1), RECIPIENT_NOT_VERIFIED,
                1));
        rows.add(new Row("batch each affordable, not all together",
                transferAll(ALICE, null, BOB, 500_00, BOB, 499_00, BOB, 1), INSUFFICIENT_FUNDS, 2));
        rows.add(new Row("batch with the withdrawal's key",
                transferAll(ALICE, key(ALICE_WITHDRAWAL_KEY.key(), "fp-batch"), BOB, 1), IDEMPOTENCY_KEY_REUSED, -1));
    }

    private static void addOpeningRows(List<Row> rows) {
        List<String> invalidEmails = new ArrayList<>(List.of("", "alice", "alice.example.com", "@example.com",
                "alice@", "alice@@example.com", "al@ce@example.com", "alice@example", "alice@.example.com",
                "alice@example.com.", "alice@example..com", "al ice@example.com", "alice@exa\tmple.com",
                "alice@example.com\n", "a@b.", "alice@example.com\u0000", "ali\u2003ce@example.com"));
        invalidEmails.add("a".repeat(243) + "@example.com");
        for (String email : invalidEmails) {
            rows.add(row("email \"" + printable(email) + "\"", open(DAVE, email), EMAIL_INVALID));
        }
        rows.add(row("email null", open(DAVE, null), EMAIL_INVALID));
        rows.add(row("email of Alice", open(DAVE, "alice@example.com"), EMAIL_TAKEN));
        rows.add(row("email of Alice in capitals", open(DAVE, "ALICE@EXAMPLE.COM"), EMAIL_TAKEN));
        rows.add(row("email of Alice in mixed case", open(DAVE, "Alice@Example.Com"), EMAIL_TAKEN));
        long[] badNumbers = {ALICE, BOB, 999_999_999_999_999L, 10_000_000_000_000_000L, 0, -ALICE,
                Long.MIN_VALUE, Long.MAX_VALUE};
        for (long number : badNumbers) {
            rows.add(row("account number " + number, open(number, "dave@example.com"), ACCOUNT_NUMBER_TAKEN));
        }
        for (long balance : new long[] {-1, Long.MIN_VALUE, Limits.AMOUNT_MAX + 1, Long.MAX_VALUE}) {
            rows.add(row("opening balance " + balance,
                    new Command.OpenAccount(DAVE, "dave@example.com", "hash", balance, null),
                    OPENING_BALANCE_INVALID));
        }
        rows.add(row("password hash null", new Command.OpenAccount(DAVE, "dave@example.com", null,
                Limits.OPENING_BALANCE_DEFAULT, null), PASSWORD_HASH_INVALID));
        rows.add(row("password hash empty", new Command.OpenAccount(DAVE, "dave@example.com", "",
                Limits.OPENING_BALANCE_DEFAULT, null), PASSWORD_HASH_INVALID));
        rows.add(row("password hash of 513 characters", new Command.OpenAccount(DAVE, "dave@example.com",
                "h".repeat(513), Limits.OPENING_BALANCE_DEFAULT, null), PASSWORD_HASH_INVALID));
    }

    private static void addVerificationRows(List<Row> rows) {
        VerificationCodes otherServer = new HmacVerificationCodes(
                "another-server-key-of-32-bytes!!".getBytes(StandardCharsets.US_ASCII));
        String carolsCode = Scenario.CODES.codeFor(CAROL, 3);
        rows.add(row("verify an unknown account", verify(NOBODY, carolsCode), ACCOUNT_NOT_FOUND));
        rows.add(row("code of another account", verify(CAROL, Scenario.CODES.codeFor(BOB, 2)), WRONG_CODE));
        rows.add(row("code for another opening seq", verify(CAROL, Scenario.CODES.codeFor(CAROL, 4)), WRONG_CODE));
        rows.add(row("code of another server key", verify(CAROL, otherServer.codeFor(CAROL, 3)), WRONG_CODE));
        rows.add(row("code with a character changed", verify(CAROL, changeFirstCharacter(carolsCode)), WRONG_CODE));
        rows.add(row("code cut short", verify(CAROL, carolsCode.substring(1)), WRONG_CODE));
        rows.add(row("code empty", verify(CAROL, ""), WRONG_CODE));
        rows.add(row("code null", verify(CAROL, null), WRONG_CODE));
        rows.add(row("wrong code on a verified account", verify(ALICE, carolsCode), WRONG_CODE));
    }

    private static void addAmountRows(List<Row> rows) {
        for (long amount : new long[] {0, -1, -1_000_00, Long.MIN_VALUE}) {
            rows.add(row("withdraw " + amount, withdraw(ALICE, amount), AMOUNT_NOT_POSITIVE));
            rows.add(row("transfer " + amount, transfer(ALICE, BOB, amount), AMOUNT_NOT_POSITIVE));
        }
        for (long amount : new long[] {Limits.AMOUNT_MAX + 1, Long.MAX_VALUE}) {
            rows.add(row("withdraw " + amount, withdraw(ALICE, amount), AMOUNT_TOO_LARGE));
            rows.add(row("transfer " + amount, transfer(ALICE, BOB, amount), AMOUNT_TOO_LARGE));
        }
        for (long amount : new long[] {ALICE_BALANCE + 1, Limits.AMOUNT_MAX}) {
            rows.add(row("withdraw " + amount, withdraw(ALICE, amount), INSUFFICIENT_FUNDS));
            rows.add(row("transfer " + amount, transfer(ALICE, BOB, amount), INSUFFICIENT_FUNDS));
        }
    }

    private static void addAccountRows(List<Row> rows) {
        rows.add(row("withdraw from an unknown account", withdraw(NOBODY, 1_00), ACCOUNT_NOT_FOUND));
        rows.add(row("transfer from an unknown account", transfer(NOBODY, BOB, 1_00), ACCOUNT_NOT_FOUND));
        rows.add(row("transfer to an unknown account", transfer(ALICE, NOBODY, 1_00), RECIPIENT_NOT_FOUND));
        rows.add(row("transfer to oneself", transfer(ALICE, ALICE, 1_00), SAME_ACCOUNT));
        rows.add(row("unverified transfers to oneself", transfer(CAROL, CAROL, 1_00), SAME_ACCOUNT));
        rows.add(row("withdraw unverified", withdraw(CAROL, 1_00), ACCOUNT_NOT_VERIFIED));
        rows.add(row("transfer from unverified", transfer(CAROL, ALICE, 1_00), ACCOUNT_NOT_VERIFIED));
        rows.add(row("transfer to unverified", transfer(ALICE, CAROL, 1_00), RECIPIENT_NOT_VERIFIED));
    }

    private static void addIdempotencyRows(List<Row> rows) {
        Idempotency sameKeyOtherRequest = key(ALICE_WITHDRAWAL_KEY.key(), "fp-withdraw-200");
        Idempotency sameKeyForATransfer = key(ALICE_WITHDRAWAL_KEY.key(), "fp-transfer");
        rows.add(row("withdrawal key reused for another withdrawal", withdraw(ALICE, 2_00, sameKeyOtherRequest),
                IDEMPOTENCY_KEY_REUSED));
        rows.add(row("withdrawal key reused for a transfer", transfer(ALICE, BOB, 1_00, sameKeyForATransfer),
                IDEMPOTENCY_KEY_REUSED));
    }

    private static String changeFirstCharacter(String code) {
        return (code.charAt(0) == 'A' ? "B" : "A") + code.substring(1);
    }

    private static String printable(String text) {
        return text.length() > 40 ? text.substring(0, 20) + "...(" + text.length() + " characters)"
                : text.replace("\t", "\\t").replace("\n", "\\n").replace("\u0000", "\\0")
                        .replace("\u2003", "\\u2003");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void refuses(Row row) {
        history().when(row.command()).thenRejected(row.expected(), row.index());
    }

    // ---- All-or-none batches that are accepted ----

    @Test
    void aBatchRecordsOneTransferPerItemInOrderWithTheKeyOnTheFirst() {
        Idempotency batchKey = key("batch-1", "fp-batch-1");
        Scenario scenario = history()
                .when(transferAll(ALICE, batchKey, BOB, 500_00, BOB, 400_00, BOB, 99_00))
                .thenEvents(transferred(ALICE, BOB, 500_00, batchKey), transferred(ALICE, BOB, 400_00),
                        transferred(ALICE, BOB, 99_00));
        long firstSeq = scenario.lastSeq() - 2;

        assertThat(scenario.balanceOf(ALICE)).isZero();
        assertThat(scenario.balanceOf(BOB)).isEqualTo(1_999_00);
        scenario.when(transferAll(ALICE, batchKey, BOB, 500_00, BOB, 400_00, BOB, 99_00)).thenReplayed(firstSeq)
                .when(transferAll(ALICE, key("batch-1", "fp-other"), BOB, 1)).thenRejected(IDEMPOTENCY_KEY_REUSED);
        assertThat(scenario.bank().checkInvariant()).isNull();
    }

    @Test
    void aBatchOfTheLargestSizeIsAccepted() {
        long[] transfers = new long[2 * Limits.BATCH_TRANSFERS_MAX];
        Event[] expected = new Event[Limits.BATCH_TRANSFERS_MAX];
        for (int i = 0; i < transfers.length; i += 2) {
            transfers[i] = i % 4 == 0 ? BOB : DAVE;
            transfers[i + 1] = 1 + i / 2;
            expected[i / 2] = transferred(ALICE, transfers[i], transfers[i + 1]);
        }
        Scenario scenario = new Scenario()
                .given(new Event.AccountOpened(ALICE, "alice@example.com", "hash", Limits.AMOUNT_MAX, null),
                        verified(ALICE), opened(BOB, "bob@example.com"), verified(BOB),
                        opened(DAVE, "dave@example.com"), verified(DAVE))
                .when(transferAll(ALICE, null, transfers)).thenEvents(expected);
        assertThat(scenario.balanceOf(ALICE)).isEqualTo(Limits.AMOUNT_MAX - 1000L * 1001 / 2);
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
        scenario.when(withdraw(BOB, 1)).thenRejected(INSUFFICIENT_FUNDS);
        assertThat(scenario.bank().checkInvariant()).isNull();
    }

    @Test
    void anAccountMayOpenWithNothingOrWithTheLargestAmount() {
        for (long balance : new long[] {0, Limits.AMOUNT_MAX}) {
            var command = new Command.OpenAccount(DAVE, "dave@example.com", "hash", balance, null);
            var event = new Event.AccountOpened(DAVE, "dave@example.com", "hash", balance, null);
            history().when(command).thenEvents(event);
        }
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

    /**
     * An opening's key names its first use whatever the body: the core cannot run bcrypt, so the
     * server compares the email and the password with the recorded opening and answers 409 itself.
     * The opening is recorded without a fingerprint, and an old one's fingerprint is not kept.
     */
    @Test
    void anOpeningsKeyIsAnsweredWithItsFirstUseWhateverTheBody() {
        Scenario scenario = history();
        long lastSeq = scenario.lastSeq();

        scenario.when(open(DAVE, "dave@example.com", key(BOB_OPENING_KEY.key(), "fp-open-dave"))).thenReplayed(2);
        assertThat(scenario.lastSeq()).isEqualTo(lastSeq);
        Idempotency davesKey = key("open-dave", "an HMAC of email and password");
        scenario.when(open(DAVE, "dave@example.com", davesKey))
                .thenEvents(opened(DAVE, "dave@example.com", key("open-dave", Idempotency.NO_FINGERPRINT)));
    }

    @Test
    void aRejectedCommandDoesNotConsumeItsKey() {
        Idempotency bobsKey = key("bob-key", "fp-withdraw-1500");
        Scenario scenario = history()
                .when(withdraw(BOB, 1_500_00, bobsKey)).thenRejected(INSUFFICIENT_FUNDS)
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
                .when(withdraw(ALICE, 2_00, second)).thenRejected(IDEMPOTENCY_KEY_REUSED);
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
        // Bob and Dave use the very key Alice used, each for a request of his own.
        Idempotency bobsKey = key(ALICE_WITHDRAWAL_KEY.key(), "fp-bob");
        Idempotency davesKey = key(ALICE_WITHDRAWAL_KEY.key(), "fp-open-dave");
        Scenario scenario = history()
                .when(withdraw(BOB, 5_00, bobsKey)).thenEvents(withdrawn(BOB, 5_00, bobsKey));
        long bobsSeq = scenario.lastSeq();

        scenario.when(withdraw(BOB, 5_00, bobsKey)).thenReplayed(bobsSeq)
                .when(withdraw(ALICE, 1_00, ALICE_WITHDRAWAL_KEY)).thenReplayed(ALICE_WITHDRAWAL_SEQ)
                // Opening accounts is a scope of its own, apart from every account's.
                .when(open(DAVE, "dave@example.com", davesKey))
                .thenEvents(opened(DAVE, "dave@example.com", davesKey.withoutFingerprint()));
    }
}
