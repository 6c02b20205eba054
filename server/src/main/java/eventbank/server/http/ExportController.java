package eventbank.server.http;

import eventbank.core.EpochMicros;
import eventbank.server.mail.DeadLetter;
import eventbank.server.mail.Outbox;
import eventbank.server.readmodel.AccountView;
import eventbank.server.readmodel.AccountsReadModel;
import eventbank.server.readmodel.ReadModels;
import eventbank.server.readmodel.StatementEntry;
import eventbank.server.readmodel.StatementPage;
import eventbank.server.readmodel.StatementsReadModel;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/account/export}: everything the bank holds about the holder as one JSON
 * document (DESIGN.md, "Personal data"): the profile, every movement of the statement oldest
 * first, and the mails the outbox makes from the account's events. Never the password hash, the
 * verification link or its code.
 *
 * <p>One seq for all of it: the profile is read together with the seq the accounts model stands
 * at ({@link AccountsReadModel#snapshotOf}), the statement is read up to that same seq, and the
 * mails are those of the events up to it. A mail is {@code sent} when the outbox's checkpoint has
 * passed its event and it is not among the dead letters: the checkpoint is read before the dead
 * letters, so that a mail set aside in between is never told as sent.
 */
final class ExportController {
    private final Authenticator authenticator;
    private final ReadWaits waits;
    private final ReadModels readModels;
    private final Outbox outbox;
    private final Clock clock;

    ExportController(Authenticator authenticator, ReadWaits waits, ReadModels readModels, Outbox outbox,
                     Clock clock) {
        this.authenticator = authenticator;
        this.waits = waits;
        this.readModels = readModels;
        this.outbox = outbox;
        this.clock = clock;
    }

    /** The whole document. */
    record Export(String exportedAt, long asOfSeq, AccountsController.Profile profile,
                  List<AccountsController.StatementLine> movements, List<Mail> mails) {}

    /**
     * One mail made from the account's events.
     *
     * @param setAsideReason the mail server's refusal when the mail is a dead letter (then not
     *                       sent), else null
     */
    record Mail(long seq, String kind, String time, String to, String subject, boolean sent,
                String setAsideReason) {}

    /** {@code GET /api/account/export?min_seq=} → the holder's data as of one seq. */
    void export(Context ctx) {
        long holder = authenticator.holder(ctx);
        AccountsReadModel accounts = readModels.accounts();
        waits.awaitMinSeq(ctx, accounts);
        AccountsReadModel.Snapshot snapshot = accounts.snapshotOf(holder);
        if (snapshot.accounts().isEmpty()) {
            // Just opened: the read model may be a few events behind the journal.
            waits.awaitCommitted(accounts);
            snapshot = accounts.snapshotOf(holder);
            if (snapshot.accounts().isEmpty()) {
                throw new ApiException(404, "account_not_found", "The account does not exist.");
            }
        }
        AccountView account = snapshot.accounts().getFirst();
        long asOfSeq = snapshot.appliedSeq();
        StatementsReadModel statements = readModels.statements();
        waits.await(statements, asOfSeq);
        List<StatementEntry> movements = oldestFirst(statements, holder, asOfSeq);
        assert movements.isEmpty() || movements.getLast().balanceAfter() == account.balance()
                : "the statement up to seq " + asOfSeq + " ends at another balance than the account's";

        List<AccountsController.StatementLine> lines = new ArrayList<>(movements.size());
        for (StatementEntry entry : movements) {
            lines.add(AccountsController.StatementLine.of(entry));
        }
        AccountsController.Profile profile = new AccountsController.Profile(Long.toString(holder), account.email(),
                account.verified(), account.closed(), account.balance(), Replies.time(account.openedAtMicros()));
        ctx.json(new Export(Replies.time(EpochMicros.of(clock.instant())), asOfSeq, profile, lines,
                mails(account, movements, asOfSeq)));
    }

    /** The statement up to {@code asOfSeq}, walked page by page from the newest, oldest first. */
    private static List<StatementEntry> oldestFirst(StatementsReadModel statements, long holder, long asOfSeq) {
        List<StatementEntry> newestFirst = new ArrayList<>(statements.entryCount(holder));
        Long beforeSeq = asOfSeq + 1;
        while (beforeSeq != null) {
            StatementPage page = statements.page(holder, StatementsReadModel.PAGE_LIMIT_MAX, beforeSeq);
            newestFirst.addAll(page.entries());
            beforeSeq = page.nextBeforeSeq();
        }
        return newestFirst.reversed();
    }

    /**
     * The verification mail of the opening and a notice per withdrawal, as the outbox makes them,
     * and any dead letter of the account up to {@code asOfSeq}; in seq order.
     */
    private List<Mail> mails(AccountView account, List<StatementEntry> movements, long asOfSeq) {
        long sentUpTo = outbox.checkpointSeq();
        Map<Long, DeadLetter> deadLetters = deadLetters(account, asOfSeq);
        List<Outbox.MailSummary> summaries = new ArrayList<>();
        summaries.add(outbox.verificationMail(account.openedSeq(), EpochMicros.toInstant(account.openedAtMicros()),
                account.accountNumber(), account.email()));
        for (StatementEntry entry : movements) {
            if (entry.type() == StatementEntry.Type.WITHDRAWAL) {
                summaries.add(outbox.withdrawalMail(entry.seq(), EpochMicros.toInstant(entry.timeMicros()),
                        account.accountNumber(), account.email(), entry.amount(), entry.balanceAfter()));
            }
        }
        List<Mail> mails = new ArrayList<>(summaries.size() + deadLetters.size());
        for (Outbox.MailSummary summary : summaries) {
            DeadLetter letter = deadLetters.remove(summary.seq());
            mails.add(new Mail(summary.seq(), summary.kind().label(), Replies.time(EpochMicros.of(summary.time())),
                    summary.to(), summary.subject(), letter == null && summary.seq() <= sentUpTo,
                    letter == null ? null : letter.reason()));
        }
        // A dead letter that no event above accounts for: listed all the same, as the outbox holds it.
        for (DeadLetter letter : deadLetters.values()) {
            mails.add(new Mail(letter.seq(), letter.kind().label(), Replies.time(EpochMicros.of(letter.time())),
                    letter.to(), letter.subject(), false, letter.reason()));
        }
        mails.sort(Comparator.comparingLong(Mail::seq));
        return mails;
    }

    /**
     * The account's dead letters up to {@code asOfSeq}, by seq. The outbox lists them in seq
     * order for every account: read from the account's opening on, page by page.
     */
    private Map<Long, DeadLetter> deadLetters(AccountView account, long asOfSeq) {
        Map<Long, DeadLetter> found = new HashMap<>();
        long afterSeq = account.openedSeq() - 1;
        try {
            while (true) {
                List<DeadLetter> page = outbox.deadLetters(afterSeq, Outbox.DEAD_LETTERS_LIST_LIMIT_MAX);
                for (DeadLetter letter : page) {
                    if (letter.seq() > asOfSeq) {
                        return found;
                    }
                    if (letter.accountNumber() == account.accountNumber()) {
                        found.put(letter.seq(), letter);
                    }
                }
                if (page.size() < Outbox.DEAD_LETTERS_LIST_LIMIT_MAX) {
                    return found;
                }
                afterSeq = page.getLast().seq();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the dead letters", e);
        }
    }
}
