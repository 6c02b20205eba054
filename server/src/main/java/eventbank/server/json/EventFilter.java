package eventbank.server.json;

import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which events to list: the filters of {@code eventbank events} and of
 * {@code GET /api/admin/events}. All of them must hold for an event to be listed.
 *
 * <p>The parse methods take the text a person typed and throw {@link IllegalArgumentException}
 * with a sentence that says what was wrong and what is expected; the command line turns that
 * into a usage error, the HTTP API into a 400 {@code invalid_query}.
 *
 * @param types      the event types to list; empty for all
 * @param account    list only events touching this account (either side of a transfer), or
 *                   {@link #ANY_ACCOUNT}
 * @param afterSeq   list events with a seq greater than this (0 for all)
 * @param untilSeq   list events with a seq up to and including this
 * @param fromMicros list events stamped at or after this, in microseconds since the epoch
 * @param toMicros   list events stamped before this, in microseconds since the epoch
 */
public record EventFilter(Set<Class<? extends Event>> types, long account, long afterSeq, long untilSeq,
                          long fromMicros, long toMicros) {

    public static final long ANY_ACCOUNT = 0;

    /** The event types by name, lower-cased, from the sealed hierarchy itself. */
    private static final Map<String, Class<? extends Event>> TYPES_BY_NAME = typesByName();

    public EventFilter {
        types = Set.copyOf(types);
        if (afterSeq < 0 || untilSeq < 0) {
            throw new IllegalArgumentException("a seq is a whole number from 0");
        }
        if (untilSeq < afterSeq) {
            throw new IllegalArgumentException("the until seq " + untilSeq + " is before the after seq " + afterSeq);
        }
        if (toMicros < fromMicros) {
            throw new IllegalArgumentException("the 'to' instant is before the 'from' instant");
        }
    }

    /** Every event. */
    public static EventFilter all() {
        return new EventFilter(Set.of(), ANY_ACCOUNT, 0, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    public boolean matches(Recorded recorded) {
        return recorded.seq() > afterSeq && recorded.seq() <= untilSeq
                && recorded.timeMicros() >= fromMicros && recorded.timeMicros() < toMicros
                && (types.isEmpty() || types.contains(recorded.event().getClass()))
                && (account == ANY_ACCOUNT || touches(recorded.event(), account));
    }

    /** Whether an event changes or names the account: its own events and transfers both ways. */
    public static boolean touches(Event event, long account) {
        return switch (event) {
            case Event.AccountOpened e -> e.accountNumber() == account;
            case Event.AccountVerified e -> e.accountNumber() == account;
            case Event.MoneyTransferred e -> e.fromAccountNumber() == account || e.toAccountNumber() == account;
            case Event.MoneyWithdrawn e -> e.accountNumber() == account;
            case Event.AccountClosed e -> e.accountNumber() == account;
            case Event.AccountForgotten e -> e.accountNumber() == account;
        };
    }

    /** The names of the event types, as event lines print them. */
    public static Collection<String> typeNames() {
        return TYPES_BY_NAME.values().stream().map(Class::getSimpleName).toList();
    }

    /** An event type by its name, compared case-insensitively: {@code MoneyTransferred}, {@code moneytransferred}. */
    public static Class<? extends Event> parseType(String text) {
        Class<? extends Event> type = TYPES_BY_NAME.get(text.strip().toLowerCase(Locale.ROOT));
        if (type == null) {
            throw new IllegalArgumentException("unknown event type '" + text + "'; the types are "
                    + String.join(", ", typeNames()));
        }
        return type;
    }

    /** A seq: a whole number from 0, digits only. */
    public static long parseSeq(String text) {
        if (!text.matches("[0-9]{1,19}")) {
            throw new IllegalArgumentException("'" + text + "' is not a seq (a whole number from 0)");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is too large for a seq");
        }
    }

    /** An account number: 16 digits, the first from 1 to 9. */
    public static long parseAccount(String text) {
        if (!text.matches("[1-9][0-9]{15}")) {
            throw new IllegalArgumentException("'" + text
                    + "' is not an account number (16 digits, the first from 1 to 9)");
        }
        long number = Long.parseLong(text);
        assert Limits.isAccountNumber(number) : text;
        return number;
    }

    /**
     * An RFC 3339 instant with its offset: {@code 2026-11-26T10:00:00Z},
     * {@code 2026-11-26T11:00:00.5+01:00}.
     */
    public static Instant parseInstant(String text) {
        try {
            return OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("'" + text + "' is not an RFC 3339 instant with an offset, such as "
                    + "2026-11-26T10:00:00Z or 2026-11-26T11:00:00.5+01:00");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Class<? extends Event>> typesByName() {
        return Arrays.stream(Event.class.getPermittedSubclasses())
                .map(type -> (Class<? extends Event>) type)
                .collect(Collectors.toMap(type -> type.getSimpleName().toLowerCase(Locale.ROOT), type -> type,
                        (first, second) -> first, LinkedHashMap::new));
    }
}
