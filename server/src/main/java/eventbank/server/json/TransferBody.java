package eventbank.server.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import eventbank.core.Command;
import java.io.IOException;

/**
 * The body of {@code POST /api/money_transfer} read in one pass of Jackson's streaming parser, as
 * {@link TransferBatchBody} reads each transfer of a batch, without the tree {@link JsonBody}
 * builds (4% of a single transfer's CPU). Only a body that is right in every way is read here:
 * one object holding exactly a valid {@code to_account_number} and {@code amount}, each once,
 * nothing after it. For anything else {@link #read} answers null and the route reads the body
 * the strict way, which says what is wrong: the replies to bad bodies stay those of {@link JsonBody}.
 */
public final class TransferBody {
    private TransferBody() {}

    /** The transfer in {@code body}, or null when the body is not a transfer right in every way. */
    public static Command.Transfer read(byte[] body) {
        try (JsonParser parser = JsonBody.strictParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            Command.Transfer transfer = TransferBatchBody.transfer(parser);
            return transfer == null || parser.nextToken() != null ? null : transfer;
        } catch (IOException e) {
            // Malformed JSON, a duplicate field: the strict reading answers it.
            return null;
        }
    }
}
