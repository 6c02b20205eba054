package eventbank.server.json;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The one-pass reading of a single transfer's body against the strict one it stands in for:
 * whatever it reads, the strict reading reads to the same values; whatever the strict reading
 * refuses, it leaves alone (null), so the route answers with the strict reading's error.
 */
class TransferBodyTest {
    private static final String BOB = "5222333344445555";

    /** The strict reading as the route does it for any body the one-pass reading leaves: the transfer, or null. */
    private static Command.Transfer strictly(String body) {
        try {
            JsonBody json = JsonBody.parse(body.getBytes(StandardCharsets.UTF_8), Set.of("to_account_number", "amount"));
            return new Command.Transfer(json.accountNumber("to_account_number"), json.amount("amount"));
        } catch (InvalidJsonException refused) {
            return null;
        }
    }

    private static Command.Transfer fast(String body) {
        return TransferBody.read(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aRightBodyIsReadInOnePassToWhatTheStrictReadingReads() {
        for (String body : List.of(
                "{\"to_account_number\":\"" + BOB + "\",\"amount\":1}",
                "{\"amount\":1000000000000,\"to_account_number\":\"" + BOB + "\"}",
                " { \"to_account_number\" : \"" + BOB + "\" , \"amount\" : 7 } \n",
                "{\"to_account_number\":\"\\u0035222333344445555\",\"amount\":7}")) {
            assertThat(fast(body)).as(body).isNotNull().isEqualTo(strictly(body));
        }
    }

    @Test
    void everyBodyTheStrictReadingRefusesIsLeftToIt() {
        String to = "\"to_account_number\":\"" + BOB + "\"";
        for (String body : List.of(
                "", " ", "[]", "null", "1", "\"x\"", "{}", "{" + to + "}", "{\"amount\":5}",
                "{" + to + ",\"amount\":5,\"amount\":6}", "{" + to + "," + to + ",\"amount\":5}",
                "{" + to + ",\"amount\":5,\"from_account_number\":\"6333444455556666\"}",
                "{" + to + ",\"amount\":5} {}", "{" + to + ",\"amount\":5}]", "{" + to + ",\"amount\":5",
                "{" + to + ",\"amount\":5,}", "{'to_account_number':\"" + BOB + "\",\"amount\":5}",
                "{\"to_account_number\":5222333344445555,\"amount\":5}",
                "{\"to_account_number\":null,\"amount\":5}", "{" + to + ",\"amount\":null}",
                "{\"to_account_number\":\"522233334444555\",\"amount\":5}",
                "{\"to_account_number\":\"0222333344445555\",\"amount\":5}",
                "{\"to_account_number\":\"522233334444555x\",\"amount\":5}",
                "{" + to + ",\"amount\":0}", "{" + to + ",\"amount\":-1}", "{" + to + ",\"amount\":1000000000001}",
                "{" + to + ",\"amount\":99999999999999999999999}", "{" + to + ",\"amount\":1.0}",
                "{" + to + ",\"amount\":1e2}", "{" + to + ",\"amount\":01}", "{" + to + ",\"amount\":\"5\"}",
                "{" + to + ",\"amount\":[5]}", "{" + to + ",\"amount\":{}}")) {
            assertThat(strictly(body)).as("the strict reading refuses %s", body).isNull();
            assertThat(fast(body)).as(body).isNull();
        }
    }

    /** Random right bodies with one random change each: both readings agree on every one ({@link DamagedBodies}). */
    @Test
    void randomlyDamagedBodiesAreReadAlikeOrLeftToTheStrictReading() {
        DamagedBodies.assertReadAlike(random -> random.nextBoolean()
                        ? "{\"to_account_number\":\"" + BOB + "\",\"amount\":" + (1 + random.nextInt(1000)) + "}"
                        : "{\"amount\":" + (1 + random.nextInt(1000)) + ",\"to_account_number\":\"" + BOB + "\"}",
                TransferBodyTest::strictly, TransferBodyTest::fast);
    }
}
