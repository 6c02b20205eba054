package eventbank.server.http;

import eventbank.server.json.JsonBody;
import eventbank.server.mail.DeadLetter;
import eventbank.server.mail.Outbox;
import eventbank.server.mail.PermanentMailException;
import io.javalin.http.Context;
import eventbank.server.mail.OutboxNotLeadingException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's view of the mails the outbox set aside (refused for good: a mailbox that does
 * not exist), each behind {@link Authenticator#operator(Context)}. Never the verification link or code.
 *
 * <ul>
 *   <li>{@code GET /api/admin/mail/dead?after_seq=&limit=} → {@code {dead_letters: [...],
 *       next_after_seq}}, in seq order.</li>
 *   <li>{@code POST /api/admin/mail/dead/{seq}/retry} sends that mail again now, with its
 *       Message-ID: 200 and the dead letter is gone; 404 not_found when no mail of that seq is
 *       set aside; 422 mail_refused when the server refuses it for good again (it stays listed,
 *       with the new reason); 503 mail_unavailable with Retry-After when the mail server cannot
 *       take it now (it stays listed as it was).</li>
 * </ul>
 */
final class MailAdminController {
    static final int LIST_LIMIT_DEFAULT = 100;
    /** Retry-After of a retry that met a mail server down: the operator tries again in a minute. */
    static final int RETRY_AFTER_SECONDS = 60;
    private static final Logger LOG = LoggerFactory.getLogger(MailAdminController.class);

    private final Authenticator authenticator;
    private final Outbox outbox;

    /** @param leaderUrl in a cluster, the leader's URL (null while none leads), where a retry must go */
    private final java.util.function.Supplier<String> leaderUrl;

    MailAdminController(Authenticator authenticator, Outbox outbox, java.util.function.Supplier<String> leaderUrl) {
        this.leaderUrl = leaderUrl;
        this.authenticator = authenticator;
        this.outbox = outbox;
    }

    /** {@code GET /api/admin/mail/dead}: a page of dead letters in seq order. */
    record DeadLetters(List<Item> deadLetters, Long nextAfterSeq) {}

    record Item(long seq, String kind, String recipient, String subject, String messageId, String reason,
                String time, String setAsideAt) {}

    /** {@code POST /api/admin/mail/dead/{seq}/retry}: the mail that went out. */
    record Sent(long seq, String kind, String recipient, String messageId, boolean sent) {}

    void deadLetters(Context ctx) {
        authenticator.operator(ctx);
        String afterText = ctx.queryParam("after_seq");
        long afterSeq = afterText == null ? 0 : Requests.queryLong(afterText, "after_seq", 0, Long.MAX_VALUE);
        String limitText = ctx.queryParam("limit");
        int limit = limitText == null ? LIST_LIMIT_DEFAULT
                : (int) Requests.queryLong(limitText, "limit", 1, Outbox.DEAD_LETTERS_LIST_LIMIT_MAX);
        List<DeadLetter> letters;
        try {
            letters = outbox.deadLetters(afterSeq, limit);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the dead letters", e);
        }
        List<Item> items = new ArrayList<>(letters.size());
        for (DeadLetter letter : letters) {
            items.add(new Item(letter.seq(), letter.kind().label(), letter.to(), letter.subject(), letter.messageId(),
                    letter.reason(), letter.time().toString(), letter.setAsideAt().toString()));
        }
        Long next = letters.size() < limit ? null : letters.getLast().seq();
        ctx.json(new DeadLetters(items, next));
    }

    void retry(Context ctx) {
        authenticator.operator(ctx);
        String seqText = ctx.pathParam("seq");
        long seq = seqOf(seqText);
        Optional<DeadLetter> sent;
        try {
            sent = outbox.retryDeadLetter(seq);
        } catch (PermanentMailException e) {
            throw new ApiException(422, "mail_refused", "The mail server refused the mail of seq " + seq
                    + " again, for good: " + e.getMessage() + ". It stays in the dead letters.");
        } catch (OutboxNotLeadingException e) {
            throw ApiException.notLeader(leaderUrl.get());
        } catch (IOException e) {
            LOG.warn("retrying the dead letter of seq {} failed: {}", seq, e.getMessage());
            throw new ApiException(503, "mail_unavailable", "The mail server could not take the mail of seq " + seq
                    + " now: " + e.getMessage() + ". It stays in the dead letters; retry later.",
                    RETRY_AFTER_SECONDS);
        }
        DeadLetter letter = sent.orElseThrow(() -> notFound(seqText));
        ctx.json(new Sent(letter.seq(), letter.kind().label(), letter.to(), letter.messageId(), true));
    }

    /**
     * The seq of the path, or 404: no dead letter has a seq that is not a whole number, or one
     * past a long's range (19 nines parsed as a long failed with a 500 before: finding 8 of
     * docs/RELIABILITY.md).
     */
    private static long seqOf(String text) {
        if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw notFound(text);
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw notFound(text);
        }
    }

    private static ApiException notFound(String seq) {
        return new ApiException(404, "not_found", "No mail of seq " + JsonBody.sanitize(seq)
                + " is in the dead letters.");
    }
}
