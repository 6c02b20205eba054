package eventbank.engine.journal;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Recorded;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.keys.SealedPersonal;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Encodes events as the journal's binary records and decodes them back (docs/FORMAT.md).
 *
 * <pre>
 * record  = length:u16  type:u8  version:u8  time_micros:i64  payload   (length counts from type on)
 * string  = length:u16  utf-8 bytes
 * key     = present:u8  [ key:string  fingerprint:string ]
 * </pre>
 *
 * The seq of a record is not stored: it is the batch's first seq plus the record's index.
 * Every type carries a version so that a field added later can be upcast on read: a decoder
 * keeps reading every version it ever wrote.
 */
public final class EventCodec {
    public static final byte TYPE_ACCOUNT_OPENED = 1;
    public static final byte TYPE_ACCOUNT_VERIFIED = 2;
    public static final byte TYPE_MONEY_TRANSFERRED = 3;
    public static final byte TYPE_MONEY_WITHDRAWN = 4;
    public static final byte TYPE_ACCOUNT_CLOSED = 5;
    public static final byte TYPE_ACCOUNT_FORGOTTEN = 6;
    static final byte VERSION_1 = 1;
    /** AccountOpened with its personal fields sealed ({@link SealedPersonal}): slot and sealed bytes. */
    static final byte VERSION_2 = 2;

    /** The largest record: a 254-character email, a long hash, a 255-byte key and fingerprint. */
    public static final int RECORD_BYTES_MAX = 4096;
    /**
     * The size of a MoneyTransferred record without an idempotency key, as every transfer of a
     * batch after the first is written: length, type, version, time, three longs, the absent key.
     */
    public static final int KEYLESS_TRANSFER_RECORD_BYTES = 2 + 1 + 1 + 8 + 3 * 8 + 1;
    private static final int STRING_BYTES_MAX = 0xFFFF;

    private EventCodec() {}

    /** Appends one record; the buffer must have {@link #RECORD_BYTES_MAX} bytes left. */
    public static void encode(ByteBuffer buffer, long timeMicros, Event event) {
        int start = buffer.position();
        buffer.putShort((short) 0); // the length, patched below
        switch (event) {
            case Event.AccountOpened e when e.personal() instanceof SealedPersonal sealed -> {
                header(buffer, TYPE_ACCOUNT_OPENED, VERSION_2, timeMicros);
                buffer.putLong(e.accountNumber()).putLong(e.openingBalance()).putInt(sealed.slot());
                putBytes(buffer, sealed.sealedBytes());
                putIdempotency(buffer, e.idempotency());
            }
            case Event.AccountOpened e -> {
                header(buffer, TYPE_ACCOUNT_OPENED, timeMicros);
                buffer.putLong(e.accountNumber()).putLong(e.openingBalance());
                putString(buffer, e.email());
                putString(buffer, e.passwordHash());
                putIdempotency(buffer, e.idempotency());
            }
            case Event.AccountVerified e -> {
                header(buffer, TYPE_ACCOUNT_VERIFIED, timeMicros);
                buffer.putLong(e.accountNumber());
            }
            case Event.MoneyTransferred e -> {
                header(buffer, TYPE_MONEY_TRANSFERRED, timeMicros);
                buffer.putLong(e.fromAccountNumber()).putLong(e.toAccountNumber()).putLong(e.amount());
                putIdempotency(buffer, e.idempotency());
            }
            case Event.MoneyWithdrawn e -> {
                header(buffer, TYPE_MONEY_WITHDRAWN, timeMicros);
                buffer.putLong(e.accountNumber()).putLong(e.amount());
                putIdempotency(buffer, e.idempotency());
            }
            case Event.AccountClosed e -> {
                header(buffer, TYPE_ACCOUNT_CLOSED, timeMicros);
                buffer.putLong(e.accountNumber()).putLong(e.forfeited());
            }
            case Event.AccountForgotten e -> {
                header(buffer, TYPE_ACCOUNT_FORGOTTEN, timeMicros);
                buffer.putLong(e.accountNumber());
            }
        }
        int length = buffer.position() - start - 2;
        assert length <= RECORD_BYTES_MAX : "record too long: " + length;
        buffer.putShort(start, (short) length);
    }

    /**
     * Decodes the record at the buffer's position and advances past it. A record that does not
     * parse is a {@link MalformedRecordException}; the batch checksum makes that a bug or a
     * format from the future, never a torn write.
     */
    public static Recorded decode(ByteBuffer buffer, long seq) {
        return decode(buffer, seq, null);
    }

    /**
     * As {@link #decode(ByteBuffer, long)}, sealed personal fields to be opened with {@code keys}
     * (null: not at hand; they then read as null).
     */
    public static Recorded decode(ByteBuffer buffer, long seq, PersonalKeys keys) {
        try {
            int length = Short.toUnsignedInt(buffer.getShort());
            int end = buffer.position() + length;
            byte type = buffer.get();
            byte version = buffer.get();
            long time = buffer.getLong();
            if (version != VERSION_1 && !(version == VERSION_2 && type == TYPE_ACCOUNT_OPENED)) {
                throw new MalformedRecordException("seq " + seq + ": unknown version " + version + " of type " + type);
            }
            Event event = switch (type) {
                case TYPE_ACCOUNT_OPENED -> version == VERSION_2 ? decodeSealedOpening(buffer, keys)
                        : decodeOpened(buffer);
                case TYPE_ACCOUNT_VERIFIED -> new Event.AccountVerified(buffer.getLong());
                case TYPE_MONEY_TRANSFERRED -> new Event.MoneyTransferred(buffer.getLong(), buffer.getLong(),
                        buffer.getLong(), getIdempotency(buffer));
                case TYPE_MONEY_WITHDRAWN -> new Event.MoneyWithdrawn(buffer.getLong(), buffer.getLong(),
                        getIdempotency(buffer));
                case TYPE_ACCOUNT_CLOSED -> new Event.AccountClosed(buffer.getLong(), buffer.getLong());
                case TYPE_ACCOUNT_FORGOTTEN -> new Event.AccountForgotten(buffer.getLong());
                default -> throw new MalformedRecordException("seq " + seq + ": unknown event type " + type);
            };
            if (buffer.position() != end) {
                throw new MalformedRecordException("seq " + seq + ": record length " + length + " does not match");
            }
            return new Recorded(seq, time, event);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new MalformedRecordException("seq " + seq + ": record does not parse: " + e);
        }
    }

    /** The name of an event type as event lines print it. */
    public static String typeName(Event event) {
        return event.getClass().getSimpleName();
    }

    /**
     * The schema version of an event as decoded: records of older versions are upcast on read,
     * so a decoded event always has the shape of its type's newest version.
     */
    public static int versionOf(Event event) {
        return switch (event) {
            case Event.AccountOpened e -> e.personal().sealed() ? VERSION_2 : VERSION_1;
            case Event.AccountVerified e -> VERSION_1;
            case Event.MoneyTransferred e -> VERSION_1;
            case Event.MoneyWithdrawn e -> VERSION_1;
            case Event.AccountClosed e -> VERSION_1;
            case Event.AccountForgotten e -> VERSION_1;
        };
    }

    private static void header(ByteBuffer buffer, byte type, long timeMicros) {
        header(buffer, type, VERSION_1, timeMicros);
    }

    private static void header(ByteBuffer buffer, byte type, byte version, long timeMicros) {
        buffer.put(type).put(version).putLong(timeMicros);
    }

    private static void putBytes(ByteBuffer buffer, byte[] bytes) {
        if (bytes.length > STRING_BYTES_MAX) {
            throw new IllegalArgumentException("more than " + STRING_BYTES_MAX + " bytes");
        }
        buffer.putShort((short) bytes.length).put(bytes);
    }

    private static void putString(ByteBuffer buffer, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        if (bytes.length > STRING_BYTES_MAX) {
            throw new IllegalArgumentException("string longer than " + STRING_BYTES_MAX + " bytes");
        }
        buffer.putShort((short) bytes.length).put(bytes);
    }

    private static String getString(ByteBuffer buffer) {
        int length = Short.toUnsignedInt(buffer.getShort());
        if (length > buffer.remaining()) {
            // Checked here because the array path below would otherwise read past the limit, or
            // fail with an exception that decode does not turn into a MalformedRecordException.
            throw new BufferUnderflowException();
        }
        if (buffer.hasArray()) {
            String value = new String(buffer.array(), buffer.arrayOffset() + buffer.position(), length,
                    StandardCharsets.UTF_8);
            buffer.position(buffer.position() + length);
            return value;
        }
        byte[] bytes = new byte[length];
        buffer.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void putIdempotency(ByteBuffer buffer, Idempotency idempotency) {
        if (idempotency == null) {
            buffer.put((byte) 0);
            return;
        }
        buffer.put((byte) 1);
        putString(buffer, idempotency.key());
        putString(buffer, idempotency.fingerprint());
    }

    private static Idempotency getIdempotency(ByteBuffer buffer) {
        byte present = buffer.get();
        if (present == 0) {
            return null;
        }
        return new Idempotency(getString(buffer), getString(buffer));
    }

    private static Event.AccountOpened decodeSealedOpening(ByteBuffer buffer, PersonalKeys keys) {
        long accountNumber = buffer.getLong();
        long openingBalance = buffer.getLong();
        int slot = buffer.getInt();
        if (slot < 0) {
            throw new IllegalArgumentException("slot " + slot);
        }
        int length = Short.toUnsignedInt(buffer.getShort());
        if (length > buffer.remaining()) {
            throw new BufferUnderflowException();
        }
        byte[] sealed = new byte[length];
        buffer.get(sealed);
        return new Event.AccountOpened(accountNumber, SealedPersonal.read(slot, accountNumber, sealed, keys),
                openingBalance, getIdempotency(buffer));
    }

    private static Event.AccountOpened decodeOpened(ByteBuffer buffer) {
        long accountNumber = buffer.getLong();
        long openingBalance = buffer.getLong();
        String email = getString(buffer);
        String passwordHash = getString(buffer);
        return new Event.AccountOpened(accountNumber, email, passwordHash, openingBalance, getIdempotency(buffer));
    }
}
