package eventbank.server.http;

import io.javalin.http.ContentType;
import io.javalin.http.Context;
import java.io.IOException;

/**
 * A JSON reply as {@code ctx.json} writes it, the same bytes and headers, by a shorter way when
 * it is small. {@code ctx.json} hands Javalin the text as a stream, which Javalin copies to the
 * reply after the handler through a new 4 KiB buffer, after an ETag check that reads a request
 * and a response header, and through its compressing stream, which looks at two more headers to
 * decide not to compress a body this small (BENCHMARKS.md, "Where eventbank's request goes"). A
 * body of at most {@link #DIRECT_BYTES_MAX} bytes is written straight to the response's stream
 * instead: Jetty keeps it in its buffer until the request ends, as it kept the copy.
 *
 * <p>What the short way leaves out changes nothing for these bodies: eventbank turns Javalin's
 * ETags off (its default), and sets none on a JSON reply, so the check never answers 304; and
 * Javalin compresses nothing under 1,500 bytes (its {@code CompressionStrategy}'s smallest).
 */
final class JsonReplies {
    /** Well under the 1,500 bytes below which Javalin never compresses. */
    static final int DIRECT_BYTES_MAX = 1024;

    private JsonReplies() {}

    /** Writes {@code body} as JSON, the last thing a handler does. */
    static void write(Context ctx, Object body) {
        // As ctx.json: the mapper's text, encoded in the reply's character set.
        byte[] bytes = ctx.jsonMapper().toJsonString(body, body.getClass()).getBytes(ctx.responseCharset());
        ctx.contentType(ContentType.APPLICATION_JSON);
        if (bytes.length > DIRECT_BYTES_MAX) {
            ctx.result(bytes);
            return;
        }
        writeDirectly(ctx, bytes);
    }

    /**
     * Writes a JSON text of ASCII characters only, which every character set a reply may have
     * (ISO-8859-1 or UTF-8) encodes to these very bytes.
     */
    static void writeAscii(Context ctx, byte[] text) {
        ctx.contentType(ContentType.APPLICATION_JSON);
        if (text.length > DIRECT_BYTES_MAX) {
            ctx.result(text);
            return;
        }
        writeDirectly(ctx, text);
    }

    private static void writeDirectly(Context ctx, byte[] bytes) {
        try {
            ctx.res().getOutputStream().write(bytes);
        } catch (IOException e) {
            // Javalin tells a client that went away (Jetty's EofException) by its class.
            throw Requests.asItIs(e);
        }
    }
}
