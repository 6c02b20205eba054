package eventbank.engine.keys;

import eventbank.core.EmailDigests;
import eventbank.core.Event;
import eventbank.core.Personal;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * An opening's personal fields as the journal holds them (record version 2 of AccountOpened):
 * sealed under the account's own data key, kept in {@code slot} of the key store. Read with the
 * store at hand, they open on first use; once the key is erased (the account forgotten) they read
 * as null. Read without it (a tool without the key-encryption key), they read as null too, but
 * are not {@linkplain #forgotten() forgotten}.
 *
 * <p>The slot is the account's opening ordinal (the first account opened has slot 0), chosen by
 * the sequencer and recorded in the event, so a reader finds the key without any index.
 */
public final class SealedPersonal implements Personal {
    private final int slot;
    private final long accountNumber;
    private final byte[] sealed;
    /** The store to open them with; null when it is not at hand. */
    private final PersonalKeys keys;
    /** The fields once opened (or as sealed, on the sequencer); null until then. */
    private volatile PersonalKeys.Opened opened;
    private volatile boolean erased;

    private SealedPersonal(int slot, long accountNumber, byte[] sealed, PersonalKeys keys, PersonalKeys.Opened opened) {
        this.slot = slot;
        this.accountNumber = accountNumber;
        this.sealed = sealed;
        this.keys = keys;
        this.opened = opened;
    }

    /**
     * Seals a new opening's fields on the sequencer: a new data key in {@code slot} (durable at the
     * store's next force, which comes before the journal's), and the opening as it is recorded.
     */
    public static Event.AccountOpened seal(PersonalKeys keys, int slot, Event.AccountOpened opening) {
        try {
            byte[] sealed = keys.sealNew(slot, opening.accountNumber(), opening.email(), opening.passwordHash());
            SealedPersonal personal = new SealedPersonal(slot, opening.accountNumber(), sealed, keys,
                    new PersonalKeys.Opened(opening.email(), opening.passwordHash()));
            return new Event.AccountOpened(opening.accountNumber(), personal, opening.openingBalance(),
                    opening.idempotency());
        } catch (IOException e) {
            throw new UncheckedIOException("the key store cannot take the key of account "
                    + opening.accountNumber(), e);
        }
    }

    /** Fields read from the journal, opened with {@code keys} when they are needed (null: not at hand). */
    public static SealedPersonal read(int slot, long accountNumber, byte[] sealed, PersonalKeys keys) {
        return new SealedPersonal(slot, accountNumber, sealed, keys, null);
    }

    /** The slot of the account's data key in the key store. */
    public int slot() {
        return slot;
    }

    /** The sealed bytes, as the journal holds them (a copy). */
    public byte[] sealedBytes() {
        return sealed.clone();
    }

    @Override
    public String email() {
        PersonalKeys.Opened fields = fields();
        return fields == null ? null : fields.email();
    }

    @Override
    public String passwordHash() {
        PersonalKeys.Opened fields = fields();
        return fields == null ? null : fields.passwordHash();
    }

    @Override
    public boolean sealed() {
        return true;
    }

    /** Whether the key was erased: known only with the store at hand. */
    @Override
    public boolean forgotten() {
        return fields() == null && erased;
    }

    /**
     * The digest stored with the key (nothing is decrypted: replay calls this once per opening),
     * or the digest of the fields as sealed; null once forgotten or without the store.
     */
    @Override
    public long[] emailDigest(EmailDigests digests) {
        PersonalKeys.Opened fields = opened;
        if (fields != null) {
            return digests.of(fields.email());
        }
        if (keys == null) {
            return null;
        }
        try {
            return keys.storedEmailDigest(slot, accountNumber);
        } catch (IOException e) {
            throw new UncheckedIOException("the key store cannot tell the email digest of account "
                    + accountNumber, e);
        }
    }

    private PersonalKeys.Opened fields() {
        PersonalKeys.Opened fields = opened;
        if (fields != null || keys == null || erased) {
            return fields;
        }
        try {
            fields = keys.open(slot, accountNumber, sealed);
        } catch (IOException e) {
            throw new UncheckedIOException("the personal fields of account " + accountNumber + " cannot be opened", e);
        }
        if (fields == null) {
            erased = true;
        } else {
            opened = fields;
        }
        return fields;
    }

    /** Equal when the same sealed bytes of the same slot and account (the store is not compared). */
    @Override
    public boolean equals(Object other) {
        return other instanceof SealedPersonal that && slot == that.slot && accountNumber == that.accountNumber
                && Arrays.equals(sealed, that.sealed);
    }

    @Override
    public int hashCode() {
        return 31 * Long.hashCode(accountNumber) + Arrays.hashCode(sealed);
    }

    /** Never the fields. */
    @Override
    public String toString() {
        return "SealedPersonal[slot=" + slot + ", accountNumber=" + accountNumber + ", " + sealed.length + " bytes]";
    }
}
