package eventbank.server.http;

import eventbank.core.Idempotency;
import eventbank.server.json.JsonBody;
import io.javalin.config.Key;
import io.javalin.http.ContentTooLargeResponse;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.Locale;
import java.util.Set;

/**
 * Reading what a request sends: its JSON body, its whole-number query parameters and its
 * Idempotency-Key header, each checked, or the error reply that says what is wrong.
 */
final class Requests {
    static final String IDEMPOTENCY_KEY = "Idempotency-Key";
    private static final String JSON = "application/json";
    /** {@code http.request_body_bytes_max}, in the app's data ({@link BankServer} puts it there). */
    static final Key<Long> BODY_BYTES_MAX = new Key<>("eventbank.request-body-bytes-max");

    private Requests() {}

    /** The JSON object of a POST, checked for media type and fields. */
    static JsonBody body(Context ctx, Set<String> known) {
        return JsonBody.parse(jsonBytes(ctx), known);
    }

    /** The bytes of a POST's body, checked for media type only. */
    static byte[] jsonBytes(Context ctx) {
        String contentType = ctx.contentType();
        // The type as clients send it most often, taken without splitting and lower-casing a copy.
        if (!JSON.equals(contentType) && !JSON.equals(contentType == null ? ""
                : contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT))) {
            throw new ApiException(415, "unsupported_media_type",
                    "The body must be sent with Content-Type: application/json.");
        }
        return bodyBytes(ctx);
    }

    /**
     * The body's bytes. A body whose length the request states is read in one array of that
     * length, or refused 413 at once when that length is over the limit (reading up to the limit
     * first, as Javalin does, would keep a client that sends the rest only after a reply waiting
     * for nothing); a chunked body goes through Javalin's {@code bodyAsBytes}, which reads it
     * through an 8 KiB buffer under a lock and answers 413 past the limit. The body is read once
     * either way: nothing in eventbank asks Javalin for it again.
     */
    private static byte[] bodyBytes(Context ctx) {
        long length = ctx.req().getContentLengthLong();
        if (length < 0) {
            return ctx.bodyAsBytes();
        }
        if (length > ctx.appData(BODY_BYTES_MAX)) {
            throw new ContentTooLargeResponse();
        }
        try {
            return ctx.req().getInputStream().readNBytes((int) length);
        } catch (IOException e) {
            // As bodyAsBytes throws it: Javalin tells a client that went away (Jetty's
            // EofException) and a timeout from other failures by the exception's class.
            throw asItIs(e);
        }
    }

    /**
     * Throws {@code e} as it is, unwrapped, from code that cannot declare it: Javalin tells a
     * reading's or a writing's failures apart by their classes. Declared to answer an unchecked
     * exception so that a caller can write {@code throw asItIs(e)}; it never answers.
     */
    static RuntimeException asItIs(IOException e) {
        return Requests.<RuntimeException>thrown(e);
    }

    @SuppressWarnings("unchecked")
    private static <E extends Throwable> E thrown(Throwable e) throws E {
        throw (E) e;
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
