package eventbank.server.http;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.core.Rejection;
import eventbank.engine.write.Outcome;
import eventbank.server.json.JsonBody;
import eventbank.server.mail.VerificationResender;
import eventbank.server.readmodel.AccountView;
import eventbank.server.readmodel.AccountsReadModel;
import eventbank.server.readmodel.Operation;
import eventbank.server.readmodel.OperationsReadModel;
import eventbank.server.readmodel.ReadModels;
import eventbank.server.readmodel.StatementEntry;
import eventbank.server.readmodel.StatementPage;
import eventbank.server.readmodel.StatementsReadModel;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Opening, verifying and reading an account: {@code /api/account}, {@code /api/verify},
 * {@code /api/verify/resend}.
 */
final class AccountsController {
    private final Authenticator authenticator;
    private final IdempotencyKeys idempotencyKeys;
    private final Submitter submitter;
    private final Outcomes outcomes;
    private final ReadWaits waits;
    private final ReadModels readModels;
    private final Passwords passwords;
    private final RateLimiters limiters;
    private final VerificationResender resender;

    AccountsController(Authenticator authenticator, IdempotencyKeys idempotencyKeys, Submitter submitter,
                       Outcomes outcomes, ReadWaits waits, ReadModels readModels, Passwords passwords,
                       RateLimiters limiters, VerificationResender resender) {
        this.authenticator = authenticator;
        this.idempotencyKeys = idempotencyKeys;
        this.submitter = submitter;
        this.outcomes = outcomes;
        this.waits = waits;
        this.readModels = readModels;
        this.passwords = passwords;
        this.limiters = limiters;
        this.resender = resender;
    }

    /** {@code GET /api/account}: the holder's profile and balance. */
    record Profile(String accountNumber, String email, boolean verified, boolean closed, long balance,
                   String openedAt) {}

    /** {@code POST /api/account/close}: 200. */
    record Closed(String accountNumber, boolean closed, long forfeited, long seq) {}

    /** {@code GET /api/verify} as JSON. */
    record Verified(String accountNumber, boolean verified, long seq) {}

    /** {@code GET /api/account/transactions}: one page, newest first. */
    record Statement(List<StatementLine> transactions, Long nextBeforeSeq) {}

    record StatementLine(long seq, String time, String type, long amount, String counterpartyAccountNumber,
                         long balanceAfter) {
        static StatementLine of(StatementEntry entry) {
            return new StatementLine(entry.seq(), Replies.time(entry.timeMicros()), entry.type().code(),
                    entry.amount(), entry.counterpartyAccountNumber() == null ? null
                            : Long.toString(entry.counterpartyAccountNumber()),
                    entry.balanceAfter());
        }
    }

    /** {@code POST /api/account {email, password}} → 201 {account_number, seq}. */
    void open(Context ctx) {
        JsonBody body = Requests.body(ctx, Set.of("email", "password"));
        String email = body.string("email");
        String password = body.string("password");
        EmailAddresses.check(email);
        Passwords.check(password);
        Idempotency idempotency = idempotencyKeys.ofOpening(ctx);
        // Counted once the request is well-formed, and before the hash: a flood costs no bcrypt and no mail.
        acquire(limiters.openingsPerAddress(), ctx, "Too many accounts opened from this address");
        // Hashed here, on the request's thread: the sequencer never waits for bcrypt.
        String hash = passwords.hash(password);
        Outcome outcome = submitter.submit(new Command.OpenAccount(0, email, hash, Limits.OPENING_BALANCE_DEFAULT,
                idempotency));
        if (outcome instanceof Outcome.Replayed replayed) {
            replayOpening(ctx, replayed.seq(), idempotency, email, password);
            return;
        }
        outcomes.reply(outcome, OperationsReadModel.SCOPE_ACCOUNT_OPENING, idempotency, committed -> {
            for (Recorded recorded : committed.events()) {
                if (recorded.event() instanceof Event.AccountOpened opened) {
                    return new Replies.Opened(Long.toString(opened.accountNumber()), committed.seq());
                }
            }
            throw new IllegalStateException("an accepted OpenAccount recorded no AccountOpened");
        }).writeTo(ctx);
    }

    /**
     * A key used before for an opening: the same request when its email is the recorded one (as
     * uniqueness compares them, without regard to case) and bcrypt says its password is the
     * recorded one; then the first reply again, else 409 {@code idempotency_key_reused}. Compared
     * here, by value, because the opening records no fingerprint of its body (see
     * {@link IdempotencyKeys#ofOpening}).
     */
    private void replayOpening(Context ctx, long seq, Idempotency idempotency, String email, String password) {
        Operation operation = outcomes.recorded(OperationsReadModel.SCOPE_ACCOUNT_OPENING, idempotency.key(), seq);
        if (!(operation instanceof Operation.AccountOpening opening)) {
            throw new IllegalStateException("the opening key " + idempotency.key() + " names seq " + seq
                    + ", which opened no account");
        }
        AccountsReadModel accounts = readModels.accounts();
        waits.await(accounts, seq);
        AccountView account = accounts.account(opening.accountNumber()).orElseThrow(Errors::readModelLagging);
        boolean sameEmail = Bank.normalizeEmail(account.email()).equals(Bank.normalizeEmail(email));
        // bcrypt runs even when the email differs, so the answer takes as long either way.
        boolean samePassword = passwords.matches(password, account.passwordHash());
        if (!sameEmail || !samePassword) {
            throw Errors.of(Rejection.IDEMPOTENCY_KEY_REUSED);
        }
        Replies.Reply.replayed(Replies.of(opening)).writeTo(ctx);
    }

    /**
     * {@code GET /api/verify?account_number=&code=} → 200 {account_number, verified, seq}; to a
     * browser following the mailed link, a page of the web app that leads on to log in, or that
     * says what went wrong with the API's message.
     */
    void verify(Context ctx) {
        if (!prefersHtml(ctx.header("Accept"))) {
            verifyAccount(ctx);
            return;
        }
        // The page's URL holds the code: no Referer, and no script.
        SecurityHeaders.html(ctx, SecurityHeaders.POLICY_LANDING_PAGE);
        try {
            verifyAccount(ctx);
        } catch (ApiException e) {
            if (e.retryAfterSeconds() != null) {
                ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
            }
            ctx.status(e.status()).html(LandingPage.refused(e.getMessage()));
        }
    }

    private void verifyAccount(Context ctx) {
        String numberText = ctx.queryParam("account_number");
        String code = ctx.queryParam("code");
        long number = numberText == null ? -1 : JsonBody.parseAccountNumber(numberText);
        if (number < 0) {
            throw ApiException.invalidQuery("The query parameter account_number must be a 16-digit account number.");
        }
        if (code == null || code.isEmpty() || code.length() > 256) {
            throw ApiException.invalidQuery("The query parameter code is missing; use the link from the mail.");
        }
        String leaderUrl = submitter.leaderElsewhere();
        if (leaderUrl != null) {
            // A link clicked in a mail reaches whichever node the balancer chose: on to the leader.
            ctx.redirect(leaderUrl + "/api/verify?" + ctx.queryString(), io.javalin.http.HttpStatus.TEMPORARY_REDIRECT);
            return;
        }
        Outcome.Committed committed = outcomes.verified(submitter.submit(new Command.VerifyAccount(number, code)));
        Replies.seq(ctx, committed.seq());
        boolean already = committed.events().isEmpty();
        if (prefersHtml(ctx.header("Accept"))) {
            ctx.status(200).html(LandingPage.verified(number, already));
        } else {
            ctx.status(200).json(new Verified(Long.toString(number), true, committed.seq()));
        }
    }

    /**
     * {@code POST /api/verify/resend {email} or {account_number}} → 202 {}, whatever the account's
     * state, so the answer tells nothing about it. Only an unverified account, within its own
     * limit, gets its link again; the mail goes out on the resender's thread.
     */
    void resend(Context ctx) {
        JsonBody body = Requests.body(ctx, Set.of("email", "account_number"));
        boolean byEmail = body.has("email");
        if (byEmail == body.has("account_number")) {
            throw ApiException.invalidField("Send either email or account_number, not both.");
        }
        String email = byEmail ? body.string("email") : null;
        if (byEmail) {
            // Checked like an opening's, so that a malformed address is 400 and not a silent 202.
            EmailAddresses.check(email);
        }
        AccountsReadModel accounts = readModels.accounts();
        Optional<AccountView> account = byEmail ? accounts.accountByEmail(email)
                : accounts.account(body.accountNumber("account_number"));
        // Counted once the request is well-formed, whatever the account: a 429 tells nothing about it.
        acquire(limiters.resendsPerAddress(), ctx, "Too many resends asked for from this address");
        account.filter(a -> !a.verified() && !a.closed())
                .filter(a -> limiters.resendsPerAccount().acquire(Long.toString(a.accountNumber())) == 0)
                .ifPresent(a -> resender.resend(a.accountNumber(), a.openedSeq(), a.email()));
        ctx.status(202).json(Map.of());
    }

    /** Takes a token of the client address's bucket, or answers 429 with the seconds to wait. */
    private static void acquire(RateLimiter limiter, Context ctx, String tooMany) {
        long blocked = limiter.acquire(ctx.ip());
        if (blocked > 0) {
            throw new ApiException(429, "too_many_attempts", tooMany + "; try again in " + blocked + " seconds.",
                    (int) Math.min(Integer.MAX_VALUE, blocked));
        }
    }

    /** {@code GET /api/account} → the holder's profile and balance. */
    void show(Context ctx) {
        long holder = authenticator.holder(ctx);
        AccountsReadModel accounts = readModels.accounts();
        waits.awaitMinSeq(ctx, accounts);
        AccountView account = accounts.account(holder).orElse(null);
        if (account == null) {
            // Just opened: the read model may be a few events behind the journal.
            waits.awaitCommitted(accounts);
            account = accounts.account(holder).orElseThrow(() ->
                    new ApiException(404, "account_not_found", "The account does not exist."));
        }
        ctx.json(new Profile(Long.toString(account.accountNumber()), account.email(), account.verified(),
                account.closed(), account.balance(), Replies.time(account.openedAtMicros())));
    }

    /**
     * {@code POST /api/account/close} → the holder's account closes: a verified one at a balance of
     * zero (else 422 balance_not_zero), an unverified one forfeiting its opening bonus. Once closed
     * it sends and receives nothing (422 account_closed), and a second close says so too. The
     * holder may still log in, to read the statement.
     */
    void close(Context ctx) {
        long holder = authenticator.holder(ctx);
        Outcome.Committed committed = outcomes.committedOnly(submitter.submit(new Command.CloseAccount(holder)));
        Event.AccountClosed closed = (Event.AccountClosed) committed.events().get(0).event();
        Replies.seq(ctx, committed.seq());
        ctx.status(200).json(new Closed(Long.toString(holder), true, closed.forfeited(), committed.seq()));
    }

    /** {@code GET /api/account/transactions?limit=&before_seq=} → one page, newest first. */
    void transactions(Context ctx) {
        long holder = authenticator.holder(ctx);
        String limitText = ctx.queryParam("limit");
        int limit = limitText == null ? StatementsReadModel.PAGE_LIMIT_DEFAULT
                : (int) Requests.queryLong(limitText, "limit", StatementsReadModel.PAGE_LIMIT_MIN,
                StatementsReadModel.PAGE_LIMIT_MAX);
        String beforeText = ctx.queryParam("before_seq");
        Long beforeSeq = beforeText == null ? null
                : Requests.queryLong(beforeText, "before_seq", 1, Long.MAX_VALUE);
        StatementsReadModel statements = readModels.statements();
        waits.awaitMinSeq(ctx, statements);
        StatementPage page = statements.page(holder, limit, beforeSeq);
        List<StatementLine> lines = new ArrayList<>(page.entries().size());
        for (StatementEntry entry : page.entries()) {
            lines.add(StatementLine.of(entry));
        }
        ctx.json(new Statement(lines, page.nextBeforeSeq()));
    }

    /** Whether the Accept header ranks text/html above application/json (a browser following the link). */
    static boolean prefersHtml(String accept) {
        if (accept == null) {
            return false;
        }
        String lower = accept.toLowerCase(Locale.ROOT);
        int html = lower.indexOf("text/html");
        int json = lower.indexOf("application/json");
        return html >= 0 && (json < 0 || html < json);
    }
}
