package eventbank.server.http;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import eventbank.core.EpochMicros;
import eventbank.server.readmodel.Operation;
import io.javalin.http.Context;
import java.io.IOException;
import java.util.List;

/**
 * The success replies of the state-changing routes, as records that Jackson writes field by
 * field in the order declared, names in snake_case ({@code accountNumber} →
 * {@code account_number}; {@link BankServer} sets the naming). They are built in one place both
 * from a fresh outcome ({@link Outcomes}) and from a stored {@link Operation} (a retry's replay
 * and {@code GET /api/operations/{key}}), so the two are identical by construction.
 */
final class Replies {
    static final String REPLAYED_HEADER = "Idempotent-Replayed";
    /**
     * The request's last recorded seq, for the request log, which Javalin calls on the thread
     * that ran the handler once the reply is written. Kept with its request, so that a seq the
     * log did not take (a reply whose writing failed) is never logged with another request that
     * the same thread runs later. A servlet attribute did the same at 3.7% of a request's CPU.
     */
    private static final ThreadLocal<NotedSeq> SEQ = new ThreadLocal<>();

    private record NotedSeq(Context ctx, long seq) {}

    private Replies() {}

    /** A state-changing command's reply body. */
    sealed interface CommandReply permits Opened, Transferred, Withdrawn, Batch {
        /** The last seq the command recorded, for the request log; 0 for none. */
        long lastSeq();
    }

    /** {@code POST /api/account}: 201. */
    record Opened(String accountNumber, long seq) implements CommandReply {
        @Override
        public long lastSeq() {
            return seq;
        }
    }

    /** {@code POST /api/money_transfer}: the balance is the sender's after it. */
    record Transferred(long seq, String fromAccountNumber, String toAccountNumber, long amount, long balance)
            implements CommandReply {
        @Override
        public long lastSeq() {
            return seq;
        }
    }

    /** {@code POST /api/withdraw}. */
    record Withdrawn(long seq, long amount, long balance) implements CommandReply {
        @Override
        public long lastSeq() {
            return seq;
        }
    }

    /**
     * {@code POST /api/money_transfers}: one result per transfer in the order sent, and the
     * sender's balance after them.
     */
    record Batch(List<? extends BatchResult> results, long balance) implements CommandReply {
        @Override
        public long lastSeq() {
            long last = 0;
            for (BatchResult result : results) {
                if (result instanceof Recorded recorded) {
                    last = Math.max(last, recorded.seq());
                }
            }
            return last;
        }
    }

    /**
     * Writes a {@link Batch} exactly as Jackson writes the records field by field (a test holds
     * the two to the same bytes), without looking up a serializer and calling the accessors
     * through reflection for each of up to a thousand results: the largest share of writing a
     * batch reply.
     */
    static final class BatchSerializer extends StdSerializer<Batch> {
        BatchSerializer() {
            super(Batch.class);
        }

        @Override
        public void serialize(Batch batch, JsonGenerator generator, SerializerProvider provider) throws IOException {
            generator.writeStartObject();
            generator.writeArrayFieldStart("results");
            for (BatchResult result : batch.results()) {
                generator.writeStartObject();
                switch (result) {
                    case Recorded recorded -> generator.writeNumberField("seq", recorded.seq());
                    case Refused refused -> {
                        generator.writeStringField("error", refused.error());
                        generator.writeStringField("message", refused.message());
                    }
                }
                generator.writeEndObject();
            }
            generator.writeEndArray();
            generator.writeNumberField("balance", batch.balance());
            generator.writeEndObject();
        }
    }

    /** The module of the replies' own serializers, for the API's mapper. */
    static SimpleModule module() {
        return new SimpleModule("eventbank-replies").addSerializer(Batch.class, new BatchSerializer());
    }

    /** One transfer's result in a batch reply, {@code {seq}} or {@code {error, message}}. */
    sealed interface BatchResult permits Recorded, Refused {}

    record Recorded(long seq) implements BatchResult {}

    record Refused(String error, String message) implements BatchResult {}

    /**
     * A reply, and whether it is the first reply again (a retry under the same Idempotency-Key):
     * then {@code Idempotent-Replayed: true}.
     */
    record Reply(CommandReply body, boolean replayed) {
        static Reply fresh(CommandReply body) {
            return new Reply(body, false);
        }

        static Reply replayed(CommandReply body) {
            return new Reply(body, true);
        }

        void writeTo(Context ctx) {
            if (replayed) {
                ctx.header(REPLAYED_HEADER, "true");
            }
            long seq = body.lastSeq();
            if (seq > 0) {
                seq(ctx, seq);
            }
            ctx.status(statusOf(body));
            byte[] text = asciiJson(body);
            if (text != null) {
                JsonReplies.writeAscii(ctx, text);
            } else {
                JsonReplies.write(ctx, body);
            }
        }
    }

    /**
     * The reply of a single command as the API's mapper writes it (a test holds the two to the
     * same text), written by hand: every value is a number or a string of digits, so nothing
     * needs escaping and the text is ASCII. Jackson's lookup of the record's serializer and its
     * reflective calls were most of writing these replies. Null for a batch, or for a string
     * that is not all digits (never, but then Jackson writes it).
     */
    static byte[] asciiJson(CommandReply reply) {
        StringBuilder text = new StringBuilder(128);
        switch (reply) {
            case Transferred t -> {
                if (!digits(t.fromAccountNumber()) || !digits(t.toAccountNumber())) {
                    return null;
                }
                text.append("{\"seq\":").append(t.seq())
                        .append(",\"from_account_number\":\"").append(t.fromAccountNumber())
                        .append("\",\"to_account_number\":\"").append(t.toAccountNumber())
                        .append("\",\"amount\":").append(t.amount())
                        .append(",\"balance\":").append(t.balance()).append('}');
            }
            case Withdrawn w -> text.append("{\"seq\":").append(w.seq()).append(",\"amount\":").append(w.amount())
                    .append(",\"balance\":").append(w.balance()).append('}');
            case Opened o -> {
                if (!digits(o.accountNumber())) {
                    return null;
                }
                text.append("{\"account_number\":\"").append(o.accountNumber()).append("\",\"seq\":").append(o.seq())
                        .append('}');
            }
            case Batch b -> {
                return null;
            }
        }
        return text.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static boolean digits(String text) {
        if (text.isEmpty()) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if ((c < '0' || c > '9') && !(c == '-' && i == 0)) {
                return false;
            }
        }
        return true;
    }

    static CommandReply of(Operation operation) {
        return switch (operation) {
            case Operation.AccountOpening o -> new Opened(Long.toString(o.accountNumber()), o.seq());
            case Operation.Transfer o -> new Transferred(o.seq(), Long.toString(o.fromAccountNumber()),
                    Long.toString(o.toAccountNumber()), o.amount(), o.fromBalanceAfter());
            case Operation.Withdrawal o -> new Withdrawn(o.seq(), o.amount(), o.balanceAfter());
        };
    }

    /** 201 for an opening (a new resource), else 200. */
    static int statusOf(CommandReply reply) {
        return reply instanceof Opened ? 201 : 200;
    }

    /** The route that recorded an operation. */
    static Route route(Operation operation) {
        return switch (operation) {
            case Operation.AccountOpening o -> Route.OPEN_ACCOUNT;
            case Operation.Transfer o -> Route.TRANSFER;
            case Operation.Withdrawal o -> Route.WITHDRAW;
        };
    }

    /** Notes the request's last recorded seq for the request log. */
    static void seq(Context ctx, long seq) {
        SEQ.set(new NotedSeq(ctx, seq));
    }

    /** The seq noted for this request on this thread, or 0 for none; forgets it. */
    static long takeSeq(Context ctx) {
        NotedSeq noted = SEQ.get();
        if (noted == null) {
            return 0;
        }
        SEQ.remove();
        return noted.ctx() == ctx ? noted.seq() : 0;
    }

    /** An instant in microseconds since the epoch as the replies write it, ISO-8601 in UTC. */
    static String time(long micros) {
        return EpochMicros.toInstant(micros).toString();
    }
}
