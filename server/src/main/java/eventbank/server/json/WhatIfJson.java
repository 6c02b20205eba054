package eventbank.server.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import eventbank.core.Command;
import eventbank.core.Limits;
import eventbank.engine.history.WhatIf;
import java.io.IOException;
import java.io.Writer;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The JSON of a what-if, shared by {@code POST /api/admin/what-if} and {@code eventbank what-if
 * --file F}. The request, every part optional:
 *
 * <pre>
 * {"exclude_seqs": [5],
 *  "commands": [{"after_seq": 7, "type": "transfer", "from_account_number": "...",
 *                "to_account_number": "...", "amount": 2500}],
 *  "until_seq": 12}
 * </pre>
 *
 * Command types: {@code open} (account_number, email, opening_balance optional: 100000),
 * {@code verify} (account_number), {@code transfer} (from_account_number, to_account_number,
 * amount), {@code withdraw} (account_number, amount); each with its {@code after_seq} (0: before
 * the first event). The answer:
 *
 * <pre>
 * {"branch_seq": 4, "until_seq": 12, "events_replayed": 8, "excluded_seqs": [5],
 *  "rejected": [{"seq": 9, "type": "MoneyWithdrawn", "accepted": false, "reason": "insufficient_funds",
 *                "message": "The balance is lower than the amount."}],
 *  "commands": [{"index": 0, "after_seq": 7, "type": "transfer", "accepted": true}],
 *  "balance_differences": [{"account_number": "...", "balance": 90000, "what_if_balance": 100000,
 *                           "difference": 10000}]}
 * </pre>
 */
public final class WhatIfJson {
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();
    private static final Set<String> REQUEST_FIELDS = Set.of("exclude_seqs", "commands", "until_seq");
    private static final Set<String> OPEN_FIELDS = Set.of("account_number", "email", "opening_balance");
    private static final Set<String> VERIFY_FIELDS = Set.of("account_number");
    private static final Set<String> TRANSFER_FIELDS = Set.of("from_account_number", "to_account_number", "amount");
    private static final Set<String> WITHDRAW_FIELDS = Set.of("account_number", "amount");
    private static final Set<String> COMMAND_FIELDS = commandFields();

    private WhatIfJson() {}

    /**
     * The request in {@code body}, strictly: unknown fields, wrong types and out-of-range numbers
     * are an {@link InvalidJsonException} (malformed_json, unknown_field or invalid_field) whose
     * message says what is wrong.
     */
    public static WhatIf.Request parse(byte[] body) {
        JsonBody request = JsonBody.parse(body, REQUEST_FIELDS);
        List<Long> excluded = request.has("exclude_seqs")
                ? request.wholeNumbers("exclude_seqs", WhatIf.EXCLUDED_SEQS_MAX, 1, Long.MAX_VALUE) : List.of();
        Long until = request.has("until_seq") ? request.wholeNumber("until_seq", 0, Long.MAX_VALUE) : null;
        List<WhatIf.Hypothetical> commands = new java.util.ArrayList<>();
        if (request.has("commands")) {
            List<JsonBody> items = request.objects("commands", 0, WhatIf.COMMANDS_MAX, COMMAND_FIELDS);
            for (int index = 0; index < items.size(); index++) {
                commands.add(hypothetical(items.get(index), "commands[" + index + "]"));
            }
        }
        return new WhatIf.Request(new HashSet<>(excluded), commands, until);
    }

    private static WhatIf.Hypothetical hypothetical(JsonBody item, String where) {
        String type = prefixed(where, () -> item.string("type"));
        long afterSeq = prefixed(where, () -> item.wholeNumber("after_seq", 0, Long.MAX_VALUE));
        Set<String> fields = switch (type) {
            case "open" -> OPEN_FIELDS;
            case "verify" -> VERIFY_FIELDS;
            case "transfer" -> TRANSFER_FIELDS;
            case "withdraw" -> WITHDRAW_FIELDS;
            default -> throw InvalidJsonException.invalidField(where + ": the type must be open, verify, transfer or "
                    + "withdraw, not '" + JsonBody.sanitize(type) + "'.");
        };
        for (String field : COMMAND_FIELDS) {
            if (!fields.contains(field) && !field.equals("type") && !field.equals("after_seq") && item.has(field)) {
                throw new InvalidJsonException(InvalidJsonException.UNKNOWN_FIELD, where + ": a " + type + " has no field '" + field
                        + "'; its fields are " + String.join(", ", fields.stream().sorted().toList()) + ".");
            }
        }
        Command command = prefixed(where, () -> switch (type) {
            case "open" -> new Command.OpenAccount(item.accountNumber("account_number"), item.string("email"),
                    WhatIf.HYPOTHETICAL_PASSWORD_HASH, item.has("opening_balance")
                            ? item.wholeNumber("opening_balance", 0, Limits.AMOUNT_MAX)
                            : Limits.OPENING_BALANCE_DEFAULT, null);
            case "verify" -> new Command.VerifyAccount(item.accountNumber("account_number"), "");
            case "transfer" -> new Command.TransferMoney(item.accountNumber("from_account_number"),
                    item.accountNumber("to_account_number"), item.amount("amount"), null);
            default -> new Command.Withdraw(item.accountNumber("account_number"), item.amount("amount"), null);
        });
        return new WhatIf.Hypothetical(afterSeq, command);
    }

    /** Runs a parse step, prefixing its error's message with where in the request it is. */
    private static <T> T prefixed(String where, java.util.function.Supplier<T> step) {
        try {
            return step.get();
        } catch (InvalidJsonException e) {
            throw e.at(where);
        }
    }

    /** Writes the answer as one JSON object, without a newline. */
    public static void write(Writer writer, WhatIf.Result result) throws IOException {
        try (JsonGenerator generator = JSON.createGenerator(writer)) {
            generator.writeStartObject();
            generator.writeNumberField("branch_seq", result.branchSeq());
            generator.writeNumberField("until_seq", result.untilSeq());
            generator.writeNumberField("events_replayed", result.eventsReplayed());
            generator.writeArrayFieldStart("excluded_seqs");
            for (long seq : result.excludedSeqs()) {
                generator.writeNumber(seq);
            }
            generator.writeEndArray();
            generator.writeArrayFieldStart("rejected");
            for (WhatIf.RejectedEvent rejected : result.rejected()) {
                generator.writeStartObject();
                generator.writeNumberField("seq", rejected.seq());
                generator.writeStringField("type", rejected.type());
                generator.writeBooleanField("accepted", false);
                generator.writeStringField("reason", rejected.reason().code());
                generator.writeStringField("message", rejected.reason().message());
                generator.writeEndObject();
            }
            generator.writeEndArray();
            generator.writeArrayFieldStart("commands");
            for (WhatIf.CommandOutcome outcome : result.commands()) {
                writeOutcome(generator, outcome);
            }
            generator.writeEndArray();
            generator.writeArrayFieldStart("balance_differences");
            for (WhatIf.BalanceDifference difference : result.differences()) {
                generator.writeStartObject();
                generator.writeStringField("account_number", Long.toString(difference.accountNumber()));
                writeNullable(generator, "balance", difference.balance());
                writeNullable(generator, "what_if_balance", difference.whatIfBalance());
                generator.writeNumberField("difference", difference.difference());
                generator.writeEndObject();
            }
            generator.writeEndArray();
            generator.writeEndObject();
        }
    }

    private static void writeOutcome(JsonGenerator generator, WhatIf.CommandOutcome outcome) throws IOException {
        generator.writeStartObject();
        generator.writeNumberField("index", outcome.index());
        generator.writeNumberField("after_seq", outcome.hypothetical().afterSeq());
        generator.writeStringField("type", switch (outcome.hypothetical().command()) {
            case Command.OpenAccount c -> "open";
            case Command.VerifyAccount c -> "verify";
            case Command.TransferMoney c -> "transfer";
            case Command.Withdraw c -> "withdraw";
            case Command.TransferMoneyAtomically c -> "transfers";
            case Command.TransferMoneyOneByOne c -> "transfers";
            case Command.CloseAccount c -> "close";
            case Command.ForgetAccount c -> "forget";
        });
        generator.writeBooleanField("accepted", outcome.accepted());
        if (!outcome.accepted()) {
            generator.writeStringField("reason", outcome.reason().code());
            generator.writeStringField("message", outcome.reason().message());
        }
        generator.writeEndObject();
    }

    private static void writeNullable(JsonGenerator generator, String field, Long value) throws IOException {
        if (value == null) {
            generator.writeNullField(field);
        } else {
            generator.writeNumberField(field, value);
        }
    }

    private static Set<String> commandFields() {
        Set<String> fields = new HashSet<>(Set.of("type", "after_seq"));
        fields.addAll(OPEN_FIELDS);
        fields.addAll(TRANSFER_FIELDS);
        fields.addAll(WITHDRAW_FIELDS);
        return Set.copyOf(fields);
    }
}
