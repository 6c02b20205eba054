package eventbank.engine.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class EventCodecTest {

    private static final long ALICE = 1_234_567_890_123_456L;
    private static final long BOB = 9_876_543_210_987_654L;
    private static final long TIME_MICROS = 1_795_687_200_123_456L; // 2026-11-26T10:00:00.123456Z
    private static final String BCRYPT_HASH = "$2a$04$abcdefghijklmnopqrstuuJ6wOm7bYVVt5fO3L6pVv8Zr7oUuUq6a";
    private static final Idempotency KEY = new Idempotency("retry-me-7", "f1ngerpr1nt");

    static Stream<Event> events() {
        return Stream.of(
                new Event.AccountOpened(ALICE, "alice@example.com", BCRYPT_HASH, Limits.OPENING_BALANCE_DEFAULT, null),
                new Event.AccountOpened(ALICE, "alice@example.com", BCRYPT_HASH, Limits.OPENING_BALANCE_DEFAULT, KEY),
                new Event.AccountOpened(BOB, "zoë.ümlaut@bücher.example", BCRYPT_HASH, 0, null),
                new Event.AccountOpened(BOB, "用户@例子.广告", BCRYPT_HASH, 1, KEY),
                new Event.AccountOpened(BOB, "😀@emoji.example", "", Long.MAX_VALUE, null),
                new Event.AccountVerified(ALICE),
                new Event.MoneyTransferred(ALICE, BOB, Limits.AMOUNT_MIN, null),
                new Event.MoneyTransferred(BOB, ALICE, Limits.AMOUNT_MAX, KEY),
                new Event.MoneyWithdrawn(ALICE, 12_345, null),
                new Event.MoneyWithdrawn(BOB, Limits.AMOUNT_MAX, KEY));
    }

    @ParameterizedTest
    @MethodSource("events")
    void everyEventRoundTrips(Event event) {
        ByteBuffer buffer = ByteBuffer.allocate(EventCodec.RECORD_BYTES_MAX);
        EventCodec.encode(buffer, TIME_MICROS, event);
        int length = buffer.position();
        buffer.flip();

        assertThat(Short.toUnsignedInt(buffer.getShort(0))).isEqualTo(length - 2);
        Recorded decoded = EventCodec.decode(buffer, 42);

        assertThat(decoded).isEqualTo(new Recorded(42, TIME_MICROS, event));
        assertThat(buffer.hasRemaining()).isFalse();
    }

    @ParameterizedTest
    @MethodSource("events")
    void everyEventRoundTripsFromADirectBufferAtAnOffset(Event event) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(100 + EventCodec.RECORD_BYTES_MAX);
        buffer.position(100);
        EventCodec.encode(buffer, TIME_MICROS, event);
        buffer.flip().position(100);

        assertThat(EventCodec.decode(buffer, 7)).isEqualTo(new Recorded(7, TIME_MICROS, event));
    }

    @Test
    void recordsFollowEachOtherAndTheirSeqsComeFromTheCaller() {
        List<Event> events = events().toList();
        ByteBuffer buffer = ByteBuffer.allocate(events.size() * EventCodec.RECORD_BYTES_MAX);
        for (int index = 0; index < events.size(); index++) {
            EventCodec.encode(buffer, TIME_MICROS + index, events.get(index));
        }
        buffer.flip();

        List<Recorded> decoded = new ArrayList<>();
        for (int index = 0; index < events.size(); index++) {
            decoded.add(EventCodec.decode(buffer, 1000 + index));
        }

        assertThat(buffer.hasRemaining()).isFalse();
        for (int index = 0; index < events.size(); index++) {
            assertThat(decoded.get(index))
                    .isEqualTo(new Recorded(1000 + index, TIME_MICROS + index, events.get(index)));
        }
    }

    @Test
    void theLargestRecordsFitInRecordBytesMax() {
        // Three UTF-8 bytes per character is the most a 254-character address can take (a
        // character outside the BMP is two chars for four bytes, so two bytes per char).
        String email = "€".repeat(Limits.EMAIL_LENGTH_MAX - "@x.io".length()) + "@x.io";
        assertThat(email).hasSize(Limits.EMAIL_LENGTH_MAX);
        String key = "~".repeat(Idempotency.KEY_LENGTH_MAX);
        String fingerprint = "€".repeat(Idempotency.FINGERPRINT_LENGTH_MAX);
        // An Argon2id encoding with generous parameters is about 100 characters; allow twice that.
        String passwordHash = "$argon2id$v=19$m=65536,t=3,p=4$" + "h".repeat(170);
        Idempotency idempotency = new Idempotency(key, fingerprint);
        List<Event> largest = List.of(
                new Event.AccountOpened(Limits.ACCOUNT_NUMBER_MAX, email, passwordHash, Long.MAX_VALUE, idempotency),
                new Event.MoneyTransferred(Limits.ACCOUNT_NUMBER_MAX, Limits.ACCOUNT_NUMBER_MIN, Limits.AMOUNT_MAX,
                        idempotency),
                new Event.MoneyWithdrawn(Limits.ACCOUNT_NUMBER_MAX, Limits.AMOUNT_MAX, idempotency));

        for (Event event : largest) {
            // Exactly RECORD_BYTES_MAX bytes of room, as the sequencer guarantees before encoding.
            ByteBuffer buffer = ByteBuffer.allocate(EventCodec.RECORD_BYTES_MAX);
            EventCodec.encode(buffer, Long.MAX_VALUE, event);
            assertThat(buffer.position()).as("record of %s", event.getClass().getSimpleName())
                    .isLessThanOrEqualTo(EventCodec.RECORD_BYTES_MAX);
            buffer.flip();
            assertThat(EventCodec.decode(buffer, Long.MAX_VALUE).event()).isEqualTo(event);
        }
        assertThat(email.getBytes(StandardCharsets.UTF_8)).hasSize(3 * (Limits.EMAIL_LENGTH_MAX - 5) + 5);
    }

    @Test
    void anUnknownTypeIsMalformed() {
        ByteBuffer buffer = encoded(new Event.AccountVerified(ALICE));
        buffer.put(2, (byte) 99);

        assertThatThrownBy(() -> EventCodec.decode(buffer, 5))
                .isInstanceOf(MalformedRecordException.class)
                .hasMessageContaining("seq 5")
                .hasMessageContaining("unknown event type 99");
    }

    @Test
    void anUnknownVersionIsMalformed() {
        ByteBuffer buffer = encoded(new Event.MoneyWithdrawn(ALICE, 100, null));
        buffer.put(3, (byte) 2);

        assertThatThrownBy(() -> EventCodec.decode(buffer, 6))
                .isInstanceOf(MalformedRecordException.class)
                .hasMessageContaining("unknown version 2");
    }

    @Test
    void aLengthThatDoesNotMatchTheFieldsIsMalformed() {
        ByteBuffer buffer = encoded(new Event.AccountVerified(ALICE));
        ByteBuffer longer = ByteBuffer.allocate(buffer.remaining() + 1).put(buffer).put((byte) 0).flip();
        longer.putShort(0, (short) (longer.getShort(0) + 1));

        assertThatThrownBy(() -> EventCodec.decode(longer, 8))
                .isInstanceOf(MalformedRecordException.class)
                .hasMessageContaining("does not match");
    }

    @Test
    void aTruncatedRecordIsMalformed() {
        ByteBuffer whole = encoded(new Event.AccountOpened(ALICE, "alice@example.com", BCRYPT_HASH, 1, KEY));
        for (int cut = 0; cut < whole.remaining(); cut++) {
            // A heap buffer that ends exactly where the record is cut, so that nothing past the
            // cut can be read by accident.
            byte[] prefix = new byte[cut];
            whole.get(0, prefix);
            ByteBuffer truncated = ByteBuffer.wrap(prefix);
            assertThatThrownBy(() -> EventCodec.decode(truncated, 9))
                    .as("record cut after %d bytes", cut)
                    .isInstanceOf(MalformedRecordException.class);
        }
    }

    @Test
    void aStringLongerThanTheRecordIsMalformed() {
        ByteBuffer buffer = encoded(new Event.AccountOpened(ALICE, "a@b.c", BCRYPT_HASH, 1, null));
        // The email's length is right after the fixed fields: length, type, version, time, number, balance.
        int emailLengthAt = 2 + 1 + 1 + 8 + 8 + 8;
        buffer.putShort(emailLengthAt, (short) 0xFFFF);

        assertThatThrownBy(() -> EventCodec.decode(buffer, 10)).isInstanceOf(MalformedRecordException.class);
    }

    @Test
    void typeNamesAreTheEventLinesTypes() {
        assertThat(events().map(EventCodec::typeName).distinct())
                .containsExactly("AccountOpened", "AccountVerified", "MoneyTransferred", "MoneyWithdrawn");
    }

    private static ByteBuffer encoded(Event event) {
        ByteBuffer buffer = ByteBuffer.allocate(EventCodec.RECORD_BYTES_MAX);
        EventCodec.encode(buffer, TIME_MICROS, event);
        return buffer.flip();
    }
}
