package eventbank.server.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import eventbank.core.Limits;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A request body read strictly: one JSON object, no duplicate keys, nothing after it, exactly
 * the fields a route knows (an unknown one is {@code unknown_field}: a client that sends
 * {@code from_account_number} must learn that it cannot choose), each of the right type. What is
 * wrong is an {@link InvalidJsonException} that says so.
 */
public final class JsonBody {
    private static final ObjectMapper STRICT = JsonMapper.builder(factory())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
            .build();

    private final ObjectNode node;

    /**
     * The JSON factory of the HTTP API's mappers. Jackson's default recycles its buffers per
     * thread, and every request runs on a new virtual thread: each reply then allocated fresh
     * buffers and filled a thread-local map, 6% of the server's samples under load. A pool
     * shared by all threads recycles them.
     */
    public static JsonFactory factory() {
        return JsonFactory.builder().recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool()).build();
    }

    /**
     * A streaming parser over {@code body} with the strict reading's features (duplicate keys are
     * an error), for a route that reads its body in one pass ({@link TransferBatchBody}).
     */
    static JsonParser strictParser(byte[] body) throws IOException {
        return STRICT.createParser(body);
    }

    private JsonBody(ObjectNode node) {
        this.node = node;
    }

    /** Parses the body and checks that every field is one of {@code known}. */
    public static JsonBody parse(byte[] body, Set<String> known) {
        JsonNode tree;
        try {
            tree = STRICT.readTree(body);
        } catch (JsonProcessingException e) {
            throw new InvalidJsonException(InvalidJsonException.MALFORMED_JSON, "The body is not valid JSON: "
                    + sanitize(e.getOriginalMessage()) + ".");
        } catch (IOException e) {
            throw new InvalidJsonException(InvalidJsonException.MALFORMED_JSON, "The body could not be read as JSON.");
        }
        if (tree == null || tree.isMissingNode()) {
            throw new InvalidJsonException(InvalidJsonException.MALFORMED_JSON, "The body is empty; a JSON object is expected.");
        }
        if (!(tree instanceof ObjectNode object)) {
            throw new InvalidJsonException(InvalidJsonException.MALFORMED_JSON, "The body must be a JSON object.");
        }
        for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new InvalidJsonException(InvalidJsonException.UNKNOWN_FIELD, "The field '" + sanitize(name)
                        + "' is not known here; the fields are " + String.join(", ", known.stream().sorted().toList())
                        + ".");
            }
        }
        return new JsonBody(object);
    }

    private JsonNode required(String name) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            throw InvalidJsonException.invalidField("The field '" + name + "' is missing.");
        }
        return value;
    }

    /** Whether the field is there, with a value other than null. */
    public boolean has(String name) {
        JsonNode value = node.get(name);
        return value != null && !value.isNull();
    }

    public String string(String name) {
        JsonNode value = required(name);
        if (!value.isTextual()) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be a string.");
        }
        return value.textValue();
    }

    /** An amount in cents: a JSON integer (no fraction, no exponent, not a string) from 1 to 10^12. */
    public long amount(String name) {
        JsonNode value = required(name);
        if (!value.isIntegralNumber()) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be a whole number of cents, "
                    + "written as a JSON integer.");
        }
        if (!value.canConvertToLong() || value.longValue() > Limits.AMOUNT_MAX) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be at most 1000000000000 cents.");
        }
        long amount = value.longValue();
        if (amount < Limits.AMOUNT_MIN) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be at least 1 cent.");
        }
        return amount;
    }

    /** A JSON boolean, or {@code absent} when the field is missing or null. */
    public boolean bool(String name, boolean absent) {
        JsonNode value = node.get(name);
        if (value == null || value.isNull()) {
            return absent;
        }
        if (!value.isBoolean()) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be true or false.");
        }
        return value.booleanValue();
    }

    /**
     * A JSON array of {@code min} to {@code max} objects, each read as strictly as a body with
     * the fields {@code known}; an error in an item names it as {@code name[index]}.
     */
    public List<JsonBody> objects(String name, int min, int max, Set<String> known) {
        JsonNode value = required(name);
        if (!value.isArray()) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be an array.");
        }
        if (value.size() < min || value.size() > max) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must hold from " + min + " to " + max
                    + " items; it holds " + value.size() + ".");
        }
        List<JsonBody> items = new ArrayList<>(value.size());
        for (int index = 0; index < value.size(); index++) {
            JsonNode item = value.get(index);
            if (!(item instanceof ObjectNode object)) {
                throw InvalidJsonException.invalidField(name + "[" + index + "]: each item must be a JSON object.");
            }
            for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
                String field = names.next();
                if (!known.contains(field)) {
                    throw new InvalidJsonException(InvalidJsonException.UNKNOWN_FIELD, name + "[" + index + "]: the field '"
                            + sanitize(field) + "' is not known here; the fields are "
                            + String.join(", ", known.stream().sorted().toList()) + ".");
                }
            }
            items.add(new JsonBody(object));
        }
        return items;
    }

    /** A JSON integer from {@code min} to {@code max}. */
    public long wholeNumber(String name, long min, long max) {
        return wholeNumber(required(name), name, min, max);
    }

    /** A JSON array of at most {@code max} integers, each from {@code min} to {@code itemMax}. */
    public List<Long> wholeNumbers(String name, int max, long min, long itemMax) {
        JsonNode value = required(name);
        if (!value.isArray()) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be an array.");
        }
        if (value.size() > max) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must hold at most " + max + " items; it holds "
                    + value.size() + ".");
        }
        List<Long> numbers = new ArrayList<>(value.size());
        for (int index = 0; index < value.size(); index++) {
            numbers.add(wholeNumber(value.get(index), name + "[" + index + "]", min, itemMax));
        }
        return numbers;
    }

    private static long wholeNumber(JsonNode value, String name, long min, long max) {
        if (!value.isIntegralNumber() || !value.canConvertToLong() || value.longValue() < min
                || value.longValue() > max) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be a JSON integer from " + min + " to "
                    + max + ".");
        }
        return value.longValue();
    }

    /** An account number: a JSON string of 16 digits, the first one from 1 to 9. */
    public long accountNumber(String name) {
        String text = string(name);
        long number = parseAccountNumber(text);
        if (number < 0) {
            throw InvalidJsonException.invalidField("The field '" + name + "' must be a 16-digit account number "
                    + "written as a string.");
        }
        return number;
    }

    /** The account number in {@code text}, or -1 when it is not 16 digits starting with 1 to 9. */
    public static long parseAccountNumber(String text) {
        if (text == null || text.length() != 16) {
            return -1;
        }
        for (int i = 0; i < 16; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        long number = Long.parseLong(text);
        return Limits.isAccountNumber(number) ? number : -1;
    }

    /** A message from a parser, short and on one line, without anything it echoes at length. */
    public static String sanitize(String text) {
        if (text == null) {
            return "";
        }
        String line = text.replaceAll("[\\p{Cntrl}]", " ");
        return line.length() > 120 ? line.substring(0, 120) + "..." : line;
    }

}
