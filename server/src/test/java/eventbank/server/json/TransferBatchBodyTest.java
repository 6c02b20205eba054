package eventbank.server.json;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.Limits;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The one-pass reading of a batch body against the strict one it stands in for: whatever it reads,
 * the strict reading reads to the same values without an error; whatever the strict reading
 * refuses, it leaves alone (null), so the route answers with the strict reading's error.
 */
class TransferBatchBodyTest {
    private static final String BOB = "5222333344445555";
    private static final String CAROL = "6333444455556666";

    /** The strict reading as the route did it before the one-pass one: the batch, or null when it refuses. */
    private static TransferBatchBody strictly(String body) {
        try {
            JsonBody json = JsonBody.parse(body.getBytes(StandardCharsets.UTF_8), Set.of("transfers", "atomic"));
            boolean atomic = json.bool("atomic", false);
            List<Command.Transfer> transfers = new ArrayList<>();
            for (JsonBody item : json.objects("transfers", 1, Limits.BATCH_TRANSFERS_MAX,
                    Set.of("to_account_number", "amount"))) {
                transfers.add(new Command.Transfer(item.accountNumber("to_account_number"), item.amount("amount")));
            }
            return new TransferBatchBody(atomic, transfers);
        } catch (InvalidJsonException refused) {
            return null;
        }
    }

    private static TransferBatchBody fast(String body) {
        return TransferBatchBody.read(body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aRightBodyIsReadInOnePassToWhatTheStrictReadingReads() {
        List<String> right = List.of(
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":1}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":100},"
                        + "{\"amount\":1000000000000,\"to_account_number\":\"" + CAROL + "\"}],\"atomic\":true}",
                "{\"atomic\":false,\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":7}]}",
                " {\"atomic\" : null , \"transfers\" : [ {\"to_account_number\":\"" + BOB + "\",\"amount\":7} ] } \n",
                "{\"transfers\":[{\"to_account_number\":\"\\u0035222333344445555\",\"amount\":7}]}");
        for (String body : right) {
            assertThat(fast(body)).as(body).isNotNull().isEqualTo(strictly(body));
        }
        StringBuilder thousand = new StringBuilder("{\"transfers\":[");
        for (int i = 0; i < Limits.BATCH_TRANSFERS_MAX; i++) {
            thousand.append(i == 0 ? "" : ",").append("{\"to_account_number\":\"" + BOB + "\",\"amount\":" + (i + 1) + "}");
        }
        String body = thousand.append("]}").toString();
        assertThat(fast(body)).isNotNull().isEqualTo(strictly(body));
        assertThat(fast(body).transfers()).hasSize(Limits.BATCH_TRANSFERS_MAX);
    }

    @Test
    void everyBodyTheStrictReadingRefusesIsLeftToIt() {
        String item = "{\"to_account_number\":\"" + BOB + "\",\"amount\":5}";
        List<String> wrong = new ArrayList<>(List.of(
                "", " ", "[]", "null", "1", "\"x\"", "{}", "{\"atomic\":true}",
                "{\"transfers\":[]}", "{\"transfers\":null}", "{\"transfers\":{}}", "{\"transfers\":[1]}",
                "{\"transfers\":[null]}", "{\"transfers\":[[]]}", "{\"transfers\":[{}]}",
                "{\"transfers\":[" + item + "],\"atomic\":\"yes\"}",
                "{\"transfers\":[" + item + "],\"atomic\":1}",
                "{\"transfers\":[" + item + "],\"atomic\":{}}",
                "{\"transfers\":[" + item + "],\"extra\":1}",
                "{\"transfers\":[" + item + "],\"transfers\":[" + item + "]}",
                "{\"transfers\":[" + item + "],\"atomic\":true,\"atomic\":false}",
                "{\"transfers\":[" + item + "]} {}",
                "{\"transfers\":[" + item + "]}]",
                "{\"transfers\":[" + item + "]",
                "{\"transfers\":[" + item + ",]}",
                "{\"transfers\":[" + item + "] /* comment */}",
                "{'transfers':[" + item + "]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\"}]}",
                "{\"transfers\":[{\"amount\":5}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":5,\"amount\":6}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":5,\"from_account_number\":\"" + CAROL + "\"}]}",
                "{\"transfers\":[{\"to_account_number\":5222333344445555,\"amount\":5}]}",
                "{\"transfers\":[{\"to_account_number\":null,\"amount\":5}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":null}]}",
                "{\"transfers\":[{\"to_account_number\":\"522233334444555\",\"amount\":5}]}",
                "{\"transfers\":[{\"to_account_number\":\"52223333444455556\",\"amount\":5}]}",
                "{\"transfers\":[{\"to_account_number\":\"0222333344445555\",\"amount\":5}]}",
                "{\"transfers\":[{\"to_account_number\":\"522233334444555x\",\"amount\":5}]}",
                "{\"transfers\":[{\"to_account_number\":\"+522233334444555\",\"amount\":5}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":0}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":-1}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":-0}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":1000000000001}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":99999999999999999999999}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":1.0}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":1e2}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":01}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":\"5\"}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":true}]}",
                "{\"transfers\":[{\"to_account_number\":\"" + BOB + "\",\"amount\":[5]}]}"));
        StringBuilder tooMany = new StringBuilder("{\"transfers\":[");
        for (int i = 0; i <= Limits.BATCH_TRANSFERS_MAX; i++) {
            tooMany.append(i == 0 ? "" : ",").append(item);
        }
        wrong.add(tooMany.append("]}").toString());
        for (String body : wrong) {
            assertThat(strictly(body)).as("the strict reading refuses %s", body).isNull();
            assertThat(fast(body)).as(body).isNull();
        }
    }

    /**
     * Random right batches with one random change each: the one-pass reading never reads one the
     * strict reading refuses, nor to other values, and reads every one the strict reading reads
     * ({@link DamagedBodies}).
     */
    @Test
    void randomlyDamagedBodiesAreReadAlikeOrLeftToTheStrictReading() {
        DamagedBodies.assertReadAlike(random -> {
            StringBuilder body = new StringBuilder("{\"transfers\":[");
            for (int i = 1 + random.nextInt(4); i > 0; i--) {
                body.append("{\"to_account_number\":\"").append(random.nextBoolean() ? BOB : CAROL)
                        .append("\",\"amount\":").append(1 + random.nextInt(1000)).append("},");
            }
            body.setLength(body.length() - 1);
            return body.append("]").append(random.nextBoolean() ? ",\"atomic\":" + random.nextBoolean() : "")
                    .append("}").toString();
        }, TransferBatchBodyTest::strictly, TransferBatchBodyTest::fast);
    }
}
