package eventbank.server.http;

import eventbank.core.Idempotency;
import eventbank.server.json.JsonBody;
import io.javalin.http.Context;
import java.util.Locale;
import java.util.Set;

/**
 * Reading what a request sends: its JSON body, its whole-number query parameters and its
 * Idempotency-Key header, each checked, or the error reply that says what is wrong.
 */
final class Requests {
    static final String IDEMPOTENCY_KEY = "Idempotency-Key";

    private Requests() {}

    /** The JSON object of a POST, checked for media type and fields. */
    static JsonBody body(Context ctx, Set<String> known) {
        return JsonBody.parse(jsonBytes(ctx), known);
    }

    /** The bytes of a POST's body, checked for media type only. */
    static byte[] jsonBytes(Context ctx) {
        String contentType = ctx.contentType();
        String mime = contentType == null ? "" : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if (!mime.equals("application/json")) {
            throw new ApiException(415, "unsupported_media_type",
                    "The body must be sent with Content-Type: application/json.");
        }
        return ctx.bodyAsBytes();
    }

    /** The Idempotency-Key header, checked, or null without one. */
    static String idempotencyKey(Context ctx) {
        String key = ctx.header(IDEMPOTENCY_KEY);
        if (key != null && !Idempotency.isValidKey(key)) {
            throw ApiException.invalidField("The Idempotency-Key header must be 1 to 255 printable ASCII characters.");
        }
        return key;
    }

    /** A query parameter's whole number from {@code min} to {@code max}, or 400 invalid_query. */
    static long queryLong(String text, String name, long min, long max) {
        long value;
        try {
            if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new NumberFormatException();
            }
            value = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ApiException.invalidQuery("The query parameter " + name + " must be a whole number from " + min
                    + " to " + max + ".");
        }
        if (value < min || value > max) {
            throw ApiException.invalidQuery("The query parameter " + name + " must be from " + min + " to " + max
                    + ".");
        }
        return value;
    }
}
