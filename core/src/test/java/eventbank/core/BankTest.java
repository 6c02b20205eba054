package eventbank.core;

import static eventbank.core.Scenario.key;
import static eventbank.core.Scenario.opened;
import static eventbank.core.Scenario.transferred;
import static eventbank.core.Scenario.verified;
import static eventbank.core.Scenario.withdrawn;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

import java.util.Locale;
import org.junit.jupiter.api.Test;

/** The write model itself: evolve's guards, snapshots, the digest and the account table. */
class BankTest {
    private static final long ALICE = 4_111_2222_3333_4444L;
    private static final long BOB = 5_222_3333_4444_5555L;
    private static final long CAROL = 6_333_4444_5555_6666L;
    private static final long T = Scenario.START_MICROS;

    /** A bank with a bit of everything: accounts, a verification, movements and keys. */
    private static Bank someHistory() {
        Bank bank = new Bank();
        bank.evolve(1, T, opened(ALICE, "alice@example.com", key("open-alice", "fp-1")));
        bank.evolve(2, T + 10, opened(BOB, "bob@example.com"));
        bank.evolve(3, T + 10, opened(CAROL, "carol@example.com"));
        bank.evolve(4, T + 20, verified(ALICE));
        bank.evolve(5, T + 30, verified(BOB));
        bank.evolve(6, T + 40, transferred(ALICE, BOB, 250_00, key("k1", "fp-2")));
        bank.evolve(7, T + 50, withdrawn(BOB, 75_00, key("k1", "fp-3")));
        return bank;
    }

    // ---- evolve refuses what cannot be a log ----

    @Test
    void evolveRefusesAGapInTheSequence() {
        Bank bank = someHistory();
        String before = bank.stateDigest();

        assertThatIllegalStateException().isThrownBy(() -> bank.evolve(9, T + 60, verified(BOB)));
        assertThatIllegalStateException().isThrownBy(() -> bank.evolve(7, T + 60, verified(BOB)));
        // A new bank starts at seq 1, no sooner and no later.
        Event first = opened(ALICE, "alice@example.com");
        assertThatIllegalStateException().isThrownBy(() -> new Bank().evolve(2, T, first));
        assertThatIllegalStateException().isThrownBy(() -> new Bank().evolve(0, T, first));

        assertThat(bank.stateDigest()).isEqualTo(before);
        bank.evolve(8, T + 60, verified(CAROL));
        assertThat(bank.lastSeq()).isEqualTo(8);
    }

    @Test
    void evolveRefusesTimeGoingBackwards() {
        Bank bank = someHistory();
        String before = bank.stateDigest();

        assertThatIllegalStateException().isThrownBy(() -> bank.evolve(8, T + 49, verified(CAROL)));

        assertThat(bank.stateDigest()).isEqualTo(before);
        // Two events may share a time stamp: time only must not go backwards.
        bank.evolve(8, T + 50, verified(CAROL));
        assertThat(bank.lastTimeMicros()).isEqualTo(T + 50);
    }

    @Test
    void evolveRefusesEventsThatCannotHaveBeenAccepted() {
        Bank bank = someHistory();
        String before = bank.stateDigest();
        long nobody = 7_444_5555_6666_7777L;

        Event[] impossible = {
            opened(ALICE, "someone@example.com"),
            opened(nobody, "ALICE@example.com"),
            verified(nobody),
            transferred(nobody, ALICE, 1),
            transferred(ALICE, nobody, 1),
            transferred(ALICE, BOB, bank.balanceOf(ALICE) + 1),
            withdrawn(BOB, bank.balanceOf(BOB) + 1),
            withdrawn(BOB, 0),
        };
        for (Event event : impossible) {
            assertThatIllegalStateException().as("%s", event).isThrownBy(() -> bank.evolve(8, T + 60, event));
        }
        assertThat(bank.stateDigest()).isEqualTo(before);
    }

    // ---- Snapshots and the digest ----

    @Test
    void exportThenRestoreGivesTheSameState() {
        Bank original = someHistory();
        Bank restored = copyOf(original, new Bank());

        assertThat(restored.stateDigest()).isEqualTo(original.stateDigest());
        assertThat(restored.balanceOf(BOB)).isEqualTo(original.balanceOf(BOB));
        assertThat(restored.isEmailTaken("Carol@Example.com")).isTrue();

        // The copy goes on exactly like the original.
        for (Bank bank : new Bank[] {original, restored}) {
            bank.evolve(8, T + 60, verified(CAROL));
            bank.evolve(9, T + 70, transferred(CAROL, ALICE, 1_00, key("k1", "fp-4")));
        }
        assertThat(restored.stateDigest()).isEqualTo(original.stateDigest());
        assertThat(restored.checkInvariant()).isNull();
    }

    @Test
    void aCopyIsTheSameStateAndGoesOnOnItsOwn() {
        Bank original = someHistory();
        Bank copy = original.copy();

        assertThat(copy.stateDigest()).isEqualTo(original.stateDigest());
        assertThat(copy.isEmailTaken("Carol@Example.com")).isTrue();

        // The copy goes on without touching the original: a new account (its tables grow), a
        // movement, a key.
        String before = original.stateDigest();
        copy.evolve(8, T + 60, verified(CAROL));
        copy.evolve(9, T + 70, transferred(CAROL, ALICE, 1_00, key("k2", "fp-4")));
        for (int i = 0; i < 40; i++) {
            copy.evolve(10 + i, T + 80, opened(7_000_0000_0000_0000L + i, "new" + i + "@example.com"));
        }
        assertThat(original.stateDigest()).isEqualTo(before);
        assertThat(original.exists(7_000_0000_0000_0000L)).isFalse();
        assertThat(copy.accountCount()).isEqualTo(43);
        assertThat(copy.balanceOf(ALICE)).isEqualTo(original.balanceOf(ALICE) + 1_00);

        // And the original goes on as the copy did, to the same state.
        original.evolve(8, T + 60, verified(CAROL));
        original.evolve(9, T + 70, transferred(CAROL, ALICE, 1_00, key("k2", "fp-4")));
        for (int i = 0; i < 40; i++) {
            original.evolve(10 + i, T + 80, opened(7_000_0000_0000_0000L + i, "new" + i + "@example.com"));
        }
        assertThat(copy.stateDigest()).isEqualTo(original.stateDigest());
        assertThat(copy.checkInvariant()).isNull();
    }

    @Test
    void restoredKeysStillAnswerRetries() {
        Bank restored = copyOf(someHistory(), new Bank());
        Decider decider = new Decider(Scenario.CODES);

        var sameRequest = new Command.Withdraw(BOB, 75_00, key("k1", "fp-3"));
        var otherRequest = new Command.Withdraw(BOB, 75_00, key("k1", "fp-9"));
        Decision retry = decider.decide(restored, sameRequest, T + 60);
        Decision other = decider.decide(restored, otherRequest, T + 60);

        assertThat(retry).isEqualTo(new Decision.Replayed(7));
        assertThat(other).isEqualTo(new Decision.Rejected(Rejection.IDEMPOTENCY_KEY_REUSED));
    }

    @Test
    void restoreOnlyIntoANewBank() {
        assertThatIllegalStateException().isThrownBy(() -> copyOf(someHistory(), someHistory()));
    }

    @Test
    void theDigestDiffersWhenOneBalanceDiffers() {
        Bank original = someHistory();
        Bank sameHistory = someHistory();
        Bank oneCentMore = copyOf(original, new Bank(), BOB, +1);

        assertThat(sameHistory.stateDigest()).isEqualTo(original.stateDigest());
        assertThat(oneCentMore.balanceOf(BOB)).isEqualTo(original.balanceOf(BOB) + 1);
        assertThat(oneCentMore.stateDigest()).isNotEqualTo(original.stateDigest());
    }

    @Test
    void theDigestDiffersWhenOneFlagDiffers() {
        Bank carolVerified = someHistory();
        carolVerified.evolve(8, T + 50, verified(CAROL));
        Bank aliceVerifiedAgain = someHistory();
        aliceVerifiedAgain.evolve(8, T + 50, verified(ALICE));

        // Both banks are at the same seq and time; only Carol's flag tells them apart.
        assertThat(carolVerified.stateDigest()).isNotEqualTo(aliceVerifiedAgain.stateDigest());
    }

    @Test
    void expiredKeysAreForgottenSoSnapshotsDoNotCarryThem() {
        long window = 1_000;
        Bank bank = new Bank(window);
        bank.evolve(1, T, opened(ALICE, "alice@example.com", key("open-alice", "fp-1")));
        bank.evolve(2, T + window, verified(ALICE));
        assertThat(Scenario.keysIn(bank)).isEqualTo(1);

        bank.evolve(3, T + window + 1, withdrawn(ALICE, 1_00, key("k1", "fp-2")));
        assertThat(Scenario.keysIn(bank)).isEqualTo(1);
        bank.evolve(4, T + 3 * window, verified(ALICE));
        assertThat(Scenario.keysIn(bank)).isZero();
    }

    private static Bank copyOf(Bank source, Bank target) {
        return copyOf(source, target, 0, 0);
    }

    /**
     * Openings recorded before the fix carry an HMAC over email and password: the bank keeps the
     * key but not that fingerprint, whether it comes from the event or from an old snapshot, so
     * no snapshot written from it copies the HMAC. Other keys keep theirs.
     */
    @Test
    void anOpeningsOldFingerprintIsNeitherKeptNorExported() {
        Bank replayed = someHistory();
        Bank restored = new Bank();
        restored.restoreIdempotency(0, "open-alice", "fp-1", 1, T);
        restored.restoreIdempotency(ALICE, "k1", "fp-2", 6, T + 40);
        for (Bank bank : new Bank[] {replayed, restored}) {
            java.util.List<String> keys = new java.util.ArrayList<>();
            bank.exportTo(new Bank.Exporter() {
                @Override
                public void counters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                                     long forfeitedTotal, int accountCount, int idempotencyCount) {}

                @Override
                public void account(long number, long balance, int verified, long openedSeq,
                                    long high, long low) {}

                @Override
                public void idempotency(long scope, String key, String fingerprint, long seq, long timeMicros) {
                    keys.add(scope + " " + key + " [" + fingerprint + "]");
                }
            });
            assertThat(keys).contains("0 open-alice []", ALICE + " k1 [fp-2]");
        }
    }

    /** Copies a bank through export and restore, adding {@code delta} to one account's balance. */
    private static Bank copyOf(Bank source, Bank target, long changedAccount, long delta) {
        source.exportTo(new Bank.Exporter() {
            @Override
            public void counters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                                 long forfeitedTotal, int accountCount, int idempotencyCount) {
                target.restoreCounters(lastSeq, lastTimeMicros, openedTotal, withdrawnTotal, forfeitedTotal);
            }

            @Override
            public void account(long number, long balance, int verified, long openedSeq,
                                long high, long low) {
                long restored = number == changedAccount ? balance + delta : balance;
                target.restoreAccount(number, restored, verified, openedSeq, high, low);
            }

            @Override
            public void idempotency(long scope, String key, String fingerprint, long seq, long timeMicros) {
                target.restoreIdempotency(scope, key, fingerprint, seq, timeMicros);
            }
        });
        target.indexRestoredAccounts();
        return target;
    }

    // ---- Accounts and emails ----

    @Test
    void theAccountTableFindsEveryAccountAfterManyRehashes() {
        AccountTable table = new AccountTable();
        int count = 100_000;
        // Consecutive numbers share all their high digits: the hard case for a weak hash.
        for (int index = 0; index < count; index++) {
            assertThat(table.add(Limits.ACCOUNT_NUMBER_MIN + index, index, index + 1, index % 2 == 0,
                    digestHigh(index), digestLow(index))).isEqualTo(index);
        }

        assertThat(table.size()).isEqualTo(count);
        for (int index = 0; index < count; index++) {
            int found = table.indexOf(Limits.ACCOUNT_NUMBER_MIN + index);
            if (found != index || table.balance(index) != index || table.isVerified(index) != (index % 2 == 0)
                    || !table.containsEmail(digestHigh(index), digestLow(index))) {
                throw new AssertionError("account " + index + " is not where it was put: found at " + found);
            }
        }
        for (int index = count; index < 2 * count; index++) {
            if (table.indexOf(Limits.ACCOUNT_NUMBER_MIN + index) != -1
                    || table.containsEmail(digestHigh(index), digestLow(index))) {
                throw new AssertionError("account " + index + " was never added but is found");
            }
        }
    }

    /**
     * Stand-ins for the two halves of an email's SHA-256. The table hashes their exclusive or,
     * which is as random as the digest itself; halves that agreed on it for every account (say
     * i and ~i) would pile every email into one probe chain.
     */
    private static long digestHigh(int index) {
        return index + 1; // 0 and 0 is no email
    }

    private static long digestLow(int index) {
        return index * 0x9E37_79B9_7F4A_7C15L;
    }

    @Test
    void theBankFindsEveryAccountItOpened() {
        Bank bank = new Bank();
        int count = 100_000;
        for (int index = 0; index < count; index++) {
            bank.evolve(index + 1, T, opened(numberOf(index), "user" + index + "@example.com"));
        }

        assertThat(bank.accountCount()).isEqualTo(count);
        assertThat(bank.balanceTotal()).isEqualTo(count * Limits.OPENING_BALANCE_DEFAULT);
        for (int index = 0; index < count; index++) {
            if (!bank.exists(numberOf(index)) || bank.openedSeqOf(numberOf(index)) != index + 1
                    || !bank.isEmailTaken("USER" + index + "@example.com")) {
                throw new AssertionError("account " + numberOf(index) + " was opened but is not found");
            }
        }
        assertThat(bank.exists(numberOf(count))).isFalse();
        assertThat(bank.exists(numberOf(1) - 1)).isFalse();
        assertThat(bank.isEmailTaken("user" + count + "@example.com")).isFalse();
    }

    /** Account numbers spread over the whole 16-digit range, as random ones would be. */
    private static long numberOf(int index) {
        return Limits.ACCOUNT_NUMBER_MIN + index * 89_999_999_999L;
    }

    @Test
    void emailsAreComparedWithoutRegardToCase() {
        Bank bank = someHistory();

        assertThat(bank.isEmailTaken("alice@example.com")).isTrue();
        assertThat(bank.isEmailTaken("ALICE@EXAMPLE.COM")).isTrue();
        assertThat(bank.isEmailTaken("aLiCe@eXaMpLe.CoM")).isTrue();
        assertThat(bank.isEmailTaken("alice@example.org")).isFalse();
        assertThat(bank.isEmailTaken("alice2@example.com")).isFalse();
        assertThat(Bank.normalizeEmail("Alice@Example.COM")).isEqualTo("alice@example.com");
    }

    @Test
    void theMachinesLocaleDoesNotChangeWhichEmailsAreTaken() {
        Locale before = Locale.getDefault();
        try {
            // In Turkish, "I" lowers to a dotless i: a bank that used the default locale would
            // let "IVAN@example.com" in next to "ivan@example.com".
            Locale.setDefault(Locale.forLanguageTag("tr-TR"));
            Bank bank = new Bank();
            bank.evolve(1, T, opened(ALICE, "ivan@example.com"));
            assertThat(bank.isEmailTaken("IVAN@EXAMPLE.COM")).isTrue();
        } finally {
            Locale.setDefault(before);
        }
    }
}
