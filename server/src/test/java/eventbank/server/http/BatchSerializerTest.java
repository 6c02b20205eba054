package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import eventbank.core.Rejection;
import eventbank.server.json.JsonBody;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The batch reply written by hand is the very text Jackson writes from the records. */
class BatchSerializerTest {
    /** The API's mapper as it was before the batch had a serializer of its own. */
    private static final ObjectMapper BY_RECORDS = JsonMapper.builder(JsonBody.factory())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build();
    private static final ObjectMapper BY_HAND = JsonMapper.builder(JsonBody.factory())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).addModule(Replies.module()).build();

    @Test
    void everyBatchIsWrittenAsJacksonWritesItsRecords() throws Exception {
        SplittableRandom random = new SplittableRandom(5);
        List<String> messages = new ArrayList<>(List.of("quote \" backslash \\ tab \t newline \n",
                "unicode é ü 漢字 \u2028", "control \u0001 \u001f", ""));
        for (Rejection reason : Rejection.values()) {
            messages.add(reason.message());
        }
        for (int round = 0; round < 500; round++) {
            List<Replies.BatchResult> results = new ArrayList<>();
            for (int i = random.nextInt(30); i >= 0; i--) {
                results.add(random.nextInt(4) == 0
                        ? new Replies.Refused(Rejection.values()[random.nextInt(Rejection.values().length)].code(),
                                messages.get(random.nextInt(messages.size())))
                        : new Replies.Recorded(random.nextLong(1, Long.MAX_VALUE)));
            }
            Replies.Batch batch = new Replies.Batch(results, random.nextLong(0, 1_000_000_000_000L));
            assertThat(BY_HAND.writeValueAsString(batch)).isEqualTo(BY_RECORDS.writeValueAsString(batch));
        }
        Replies.Batch empty = new Replies.Batch(List.of(), 0);
        assertThat(BY_HAND.writeValueAsString(empty)).isEqualTo(BY_RECORDS.writeValueAsString(empty))
                .isEqualTo("{\"results\":[],\"balance\":0}");
    }

    /** A single command's reply written by hand ({@link Replies#asciiJson}) is the text Jackson writes. */
    @Test
    void everySingleCommandsReplyIsWrittenAsJacksonWritesItsRecord() throws Exception {
        SplittableRandom random = new SplittableRandom(7);
        for (int round = 0; round < 2_000; round++) {
            long seq = random.nextLong(1, Long.MAX_VALUE);
            String from = Long.toString(random.nextLong(1_000_000_000_000_000L, 10_000_000_000_000_000L));
            String to = Long.toString(random.nextLong(1_000_000_000_000_000L, 10_000_000_000_000_000L));
            long amount = random.nextLong(1, 1_000_000_000_001L);
            long balance = random.nextLong(0, Long.MAX_VALUE);
            for (Replies.CommandReply reply : List.of(new Replies.Transferred(seq, from, to, amount, balance),
                    new Replies.Withdrawn(seq, amount, balance), new Replies.Opened(from, seq))) {
                assertThat(new String(Replies.asciiJson(reply), java.nio.charset.StandardCharsets.US_ASCII))
                        .isEqualTo(BY_HAND.writeValueAsString(reply));
            }
        }
        assertThat(Replies.asciiJson(new Replies.Transferred(1, "1x", "2", 3, 4))).as("not all digits").isNull();
        assertThat(Replies.asciiJson(new Replies.Batch(List.of(), 0))).isNull();
    }
}
