package eventbank.server.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import eventbank.core.EpochMicros;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Recorded;
import eventbank.server.cli.TestBank;
import java.io.StringWriter;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Event lines and filters without an engine. */
class EventLinesTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "1970-01-01T00:00:00Z, 1970-01-01T00:00:00.000000Z",
        "2026-11-26T10:00:00.123456Z, 2026-11-26T10:00:00.123456Z",
        "2026-11-26T10:00:00.000005Z, 2026-11-26T10:00:00.000005Z",
        "2026-02-28T23:59:59.999999Z, 2026-02-28T23:59:59.999999Z",
        "2028-02-29T00:00:00.1Z, 2028-02-29T00:00:00.100000Z",
        "9999-12-31T23:59:59.999999Z, 9999-12-31T23:59:59.999999Z",
    })
    void timesHaveExactlySixFractionalDigitsInUtc(String instant, String expected) {
        assertThat(EventLines.formatTime(EpochMicros.of(Instant.parse(instant)))).isEqualTo(expected);
    }

    @Test
    void anEventCanBeWrittenInsideAnotherDocument() throws Exception {
        StringWriter text = new StringWriter();
        try (JsonGenerator generator = new JsonFactory().createGenerator(text)) {
            generator.writeStartObject();
            generator.writeArrayFieldStart("events");
            EventLines.write(generator, new Recorded(9, 0, new Event.MoneyWithdrawn(1234567890123456L, 1, null)));
            generator.writeEndArray();
            generator.writeEndObject();
        }
        assertThat(text.toString()).isEqualTo("{\"events\":[{\"seq\":9,\"type\":\"MoneyWithdrawn\",\"version\":1,"
                + "\"time\":\"1970-01-01T00:00:00.000000Z\",\"data\":{\"account_number\":\"1234567890123456\","
                + "\"amount\":1}}]}");
    }

    @Test
    void linesEscapeWhatJsonMustEscape() throws Exception {
        StringWriter text = new StringWriter();
        try (EventLines lines = new EventLines(text)) {
            lines.write(new Recorded(1, 0, new Event.AccountOpened(1234567890123456L, "\"quoted\"\\é@example.com",
                    "hash", 100_000, new Idempotency("key \"1\"", "fingerprint"))));
        }
        assertThat(text.toString()).isEqualTo("{\"seq\":1,\"type\":\"AccountOpened\",\"version\":1,"
                + "\"time\":\"1970-01-01T00:00:00.000000Z\",\"data\":{\"account_number\":\"1234567890123456\","
                + "\"email\":\"\\\"quoted\\\"\\\\é@example.com\",\"opening_balance\":100000,"
                + "\"idempotency_key\":\"key \\\"1\\\"\"}}\n");
    }

    @Test
    void aTransferTouchesBothSides() {
        Event transfer = new Event.MoneyTransferred(TestBank.ALICE, TestBank.BOB, 1, null);
        assertThat(EventFilter.touches(transfer, TestBank.ALICE)).isTrue();
        assertThat(EventFilter.touches(transfer, TestBank.BOB)).isTrue();
        assertThat(EventFilter.touches(transfer, TestBank.CAROL)).isFalse();
    }

    @Test
    void aFilterRefusesAnEmptyRangeTheWrongWayRound() {
        assertThatThrownBy(() -> new EventFilter(Set.of(), EventFilter.ANY_ACCOUNT, 5, 4, 0, 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(EventFilter.all().matches(new Recorded(1, 0, new Event.AccountVerified(TestBank.ALICE)))).isTrue();
    }
}
