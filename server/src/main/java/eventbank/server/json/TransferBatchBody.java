package eventbank.server.json;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SerializedString;
import eventbank.core.Command;
import eventbank.core.Limits;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The body of {@code POST /api/money_transfers} read in one pass of Jackson's streaming parser,
 * without the tree {@link JsonBody} builds: a tree of a hundred transfers was a node, a map and
 * a big integer per value, and reading it the largest share of the server's work under batch
 * load.
 *
 * <p>Only a body that is right in every way is read here: one object with {@code transfers}, an
 * array of 1 to {@link Limits#BATCH_TRANSFERS_MAX} objects each holding exactly a valid {@code
 * to_account_number} and {@code amount}, and optionally {@code atomic} (true, false or null),
 * each field once, nothing after the object. For anything else {@link #read} answers null and
 * the route reads the body the strict way, which finds what is wrong and says so: the replies to
 * bad bodies stay exactly those of {@link JsonBody}, and a body read here is one {@link JsonBody}
 * would have read to the same values.
 *
 * @param atomic    the {@code atomic} field, false when absent or null
 * @param transfers the transfers in the order sent
 */
public record TransferBatchBody(boolean atomic, List<Command.Transfer> transfers) {
    private static final String TRANSFERS = "transfers";
    private static final String ATOMIC = "atomic";
    private static final String TO_ACCOUNT_NUMBER = "to_account_number";
    private static final String AMOUNT = "amount";
    private static final SerializedString TO_ACCOUNT_NUMBER_NAME = new SerializedString(TO_ACCOUNT_NUMBER);
    private static final SerializedString AMOUNT_NAME = new SerializedString(AMOUNT);

    /** The batch in {@code body}, or null when the body is not a batch right in every way. */
    public static TransferBatchBody read(byte[] body) {
        try (JsonParser parser = JsonBody.strictParser(body)) {
            return read(parser);
        } catch (IOException e) {
            // Malformed JSON, a duplicate field: the strict reading answers it.
            return null;
        }
    }

    private static TransferBatchBody read(JsonParser parser) throws IOException {
        if (parser.nextToken() != JsonToken.START_OBJECT) {
            return null;
        }
        List<Command.Transfer> transfers = null;
        boolean atomic = false;
        boolean atomicSeen = false;
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_OBJECT; token = parser.nextToken()) {
            if (token != JsonToken.FIELD_NAME) {
                return null;
            }
            String name = parser.currentName();
            JsonToken value = parser.nextToken();
            if (TRANSFERS.equals(name) && transfers == null) {
                transfers = transfers(parser, value);
                if (transfers == null) {
                    return null;
                }
            } else if (ATOMIC.equals(name) && !atomicSeen) {
                atomicSeen = true;
                if (value == JsonToken.VALUE_TRUE || value == JsonToken.VALUE_FALSE) {
                    atomic = value == JsonToken.VALUE_TRUE;
                } else if (value != JsonToken.VALUE_NULL) {
                    return null;
                }
            } else {
                return null;
            }
        }
        if (transfers == null || parser.nextToken() != null) {
            return null;
        }
        return new TransferBatchBody(atomic, transfers);
    }

    /** The array's transfers, the parser on its start; null unless every one is right. */
    private static List<Command.Transfer> transfers(JsonParser parser, JsonToken start) throws IOException {
        if (start != JsonToken.START_ARRAY) {
            return null;
        }
        List<Command.Transfer> transfers = new ArrayList<>();
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
            if (token != JsonToken.START_OBJECT || transfers.size() == Limits.BATCH_TRANSFERS_MAX) {
                return null;
            }
            Command.Transfer transfer = transfer(parser);
            if (transfer == null) {
                return null;
            }
            transfers.add(transfer);
        }
        return transfers.isEmpty() ? null : transfers;
    }

    /**
     * One transfer, the parser on its object's start; null unless it is right. The name expected
     * next is matched against the input's bytes ({@link JsonParser#nextFieldName(
     * com.fasterxml.jackson.core.SerializableString)}), which skips looking the name up; any
     * other name is read as usual.
     */
    static Command.Transfer transfer(JsonParser parser) throws IOException {
        long to = -1;
        long amount = -1;
        while (true) {
            String name;
            if (parser.nextFieldName(to < 0 ? TO_ACCOUNT_NUMBER_NAME : AMOUNT_NAME)) {
                name = to < 0 ? TO_ACCOUNT_NUMBER : AMOUNT;
            } else if (parser.currentToken() == JsonToken.FIELD_NAME) {
                name = parser.currentName();
            } else if (parser.currentToken() == JsonToken.END_OBJECT) {
                break;
            } else {
                return null;
            }
            JsonToken value = parser.nextToken();
            if (TO_ACCOUNT_NUMBER.equals(name) && to < 0 && value == JsonToken.VALUE_STRING) {
                to = accountNumber(parser.getTextCharacters(), parser.getTextOffset(), parser.getTextLength());
                if (to < 0) {
                    return null;
                }
            } else if (AMOUNT.equals(name) && amount < 0 && value == JsonToken.VALUE_NUMBER_INT
                    && parser.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
                amount = parser.getLongValue();
                if (amount < Limits.AMOUNT_MIN || amount > Limits.AMOUNT_MAX) {
                    return null;
                }
            } else {
                return null;
            }
        }
        return to < 0 || amount < 0 ? null : new Command.Transfer(to, amount);
    }

    /**
     * The account number in the characters, or -1: the same rule as {@link
     * JsonBody#parseAccountNumber}, without making a string of them.
     */
    static long accountNumber(char[] text, int offset, int length) {
        if (length != 16) {
            return -1;
        }
        long number = 0;
        for (int i = offset; i < offset + length; i++) {
            char c = text[i];
            if (c < '0' || c > '9') {
                return -1;
            }
            number = number * 10 + (c - '0');
        }
        return Limits.isAccountNumber(number) ? number : -1;
    }
}
