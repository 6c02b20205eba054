package eventbank.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import eventbank.core.Idempotency;
import eventbank.engine.Engine;
import eventbank.engine.Outcome;
import eventbank.engine.ServerKey;
import eventbank.server.config.Config;
import eventbank.server.mail.Outbox;
import eventbank.server.mail.VerificationResender;
import eventbank.server.metrics.BankMetrics;
import eventbank.server.metrics.DiskSpace;
import eventbank.server.openapi.ApiDocs;
import eventbank.server.readmodel.Operation;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API (DESIGN.md, "API contract") in front of an engine and its read models: Javalin on
 * virtual threads, one controller per resource, every error as {@code {"error", "message"}}.
 * Built in one place from its parts; {@link #start(String, int)} listens (port 0: any free port).
 */
public final class BankServer implements AutoCloseable {
    /** How long a read waits for {@code min_seq} (or a fresh account) before 503 read_model_lagging. */
    public static final Duration READ_WAIT = Duration.ofSeconds(5);
    private static final Logger REQUESTS = LoggerFactory.getLogger("eventbank.http");
    private static final Logger LOG = LoggerFactory.getLogger(BankServer.class);
    private static final String ERROR_WRITTEN = "eventbank.error";
    /** An error reply to a request whose body is longer than this closes the connection. */
    private static final long UNREAD_BODY_BYTES_KEPT_ALIVE = 16 * 1024;

    private final Javalin app;

    /**
     * The HTTP stack as eventbank runs it, shared with the bench's bare handler so that the two
     * compare like with like. Two settings found by profiling under load (BENCHMARKS.md):
     * <ul>
     *   <li>Javalin copies each reply body to the socket through a new buffer of
     *       {@code responseBufferSize} bytes, 32 KiB unless set: allocating and zeroing it took
     *       10% of the server's samples for replies of 100-odd bytes. 4 KiB holds any small
     *       reply; a larger one (a statement page) goes out in several writes.</li>
     *   <li>Jetty keeps a per-connection cache of header fields a connection repeats; a
     *       connection whose requests carry different bearer tokens (a client or a proxy acting
     *       for many holders) misses every time and pays for adding and clearing it: 13% of the
     *       samples, for nothing. Off.</li>
     * </ul>
     */
    public static void configureHttpStack(io.javalin.config.JavalinConfig javalin) {
        javalin.concurrency.useVirtualThreads = true;
        javalin.startup.showJavalinBanner = false;
        javalin.startup.showOldJavalinVersionWarning = false;
        javalin.http.responseBufferSize = 4096;
        javalin.jetty.modifyHttpConfiguration(http -> http.setHeaderCacheSize(0));
    }

    /**
     * @param outbox   the mail outbox, for /metrics and its dead letters
     * @param resender sends verification links again ({@code POST /api/verify/resend})
     */
    public BankServer(Engine engine, ReadModels readModels, Outbox outbox, VerificationResender resender,
                      Config config) {
        this(engine, readModels, outbox, resender, config, Clock.systemUTC());
    }

    BankServer(Engine engine, ReadModels readModels, Outbox outbox, VerificationResender resender, Config config,
               Clock clock) {
        byte[] serverKey = serverKeyOf(engine);
        Tokens tokens = new Tokens(serverKey, config.tokenTtl(), clock);
        BankMetrics metrics = new BankMetrics(engine, readModels.all());
        metrics.registerMail(outbox, resender);
        Api api = new Api(engine, readModels, tokens, metrics,
                Keys.derive(serverKey, "eventbank idempotency fingerprint v1"), READ_WAIT, config.operatorKey());
        Passwords passwords = new Passwords(config.bcryptCost());
        AccountsController accounts = new AccountsController(api, passwords,
                new OpenRateLimiter(config.openRatePerMinute(), clock),
                new OpenRateLimiter(config.openRatePerMinute(), clock),
                new OpenRateLimiter(AccountsController.RESENDS_PER_ACCOUNT_PER_MINUTE, clock), resender);
        LoginController login = new LoginController(api, passwords, new LoginThrottle(clock));
        MoneyController money = new MoneyController(api,
                new OpenRateLimiter(config.moneyCommandsPerMinute(), clock));
        OperationsController operations = new OperationsController(api);
        AdminController admin = new AdminController(api);
        ReportsController reports = new ReportsController(api, clock);
        ExplorerController explorer = new ExplorerController(api);
        WhatIfController whatIf = new WhatIfController(api, config.whatIfReplayEventsMax());
        MailAdminController mailAdmin = new MailAdminController(api, outbox);
        ObjectMapper mapper = JsonMapper.builder(JsonBody.factory()).build();

        this.app = Javalin.create(javalin -> {
            configureHttpStack(javalin);
            javalin.jetty.modifyHttpConfiguration(http -> http.addCustomizer(new SecurityHeaders()));
            javalin.http.prefer405over404 = true;
            javalin.http.maxRequestSize = config.requestBodyBytesMax();
            javalin.jsonMapper(new JavalinJackson(mapper, true));

            javalin.routes.post("/api/account", accounts::open);
            javalin.routes.get("/api/account", accounts::show);
            javalin.routes.get("/api/verify", accounts::verify);
            javalin.routes.post("/api/verify/resend", accounts::resend);
            javalin.routes.post("/api/login", login::login);
            javalin.routes.get("/api/account/transactions", accounts::transactions);
            javalin.routes.post("/api/money_transfer", money::transfer);
            javalin.routes.post("/api/money_transfers", money::transfers);
            javalin.routes.post("/api/withdraw", money::withdraw);
            javalin.routes.get("/api/operations/{idempotency_key}", operations::show);
            javalin.routes.get("/api/admin/audit/head", admin::auditHead);
            javalin.routes.get("/api/report/sum_transactions", reports::sumTransactions);
            javalin.routes.get("/api/report/inactive_users", reports::inactiveUsers);
            javalin.routes.get("/api/admin/events", explorer::events);
            javalin.routes.get("/api/admin/state", explorer::state);
            javalin.routes.get("/api/admin/accounts/{number}/history", explorer::history);
            javalin.routes.post("/api/admin/what-if", whatIf::whatIf);
            javalin.routes.get("/api/admin/mail/dead", mailAdmin::deadLetters);
            javalin.routes.post("/api/admin/mail/dead/{seq}/retry", mailAdmin::retry);
            javalin.routes.get("/health", ctx -> health(ctx, engine, metrics));
            javalin.routes.get("/metrics", ctx -> ctx.contentType(BankMetrics.CONTENT_TYPE).result(metrics.scrape()));
            javalin.routes.get(ApiDocs.OPENAPI_PATH,
                    ctx -> ctx.contentType(ApiDocs.OPENAPI_CONTENT_TYPE).result(ApiDocs.openapiJson()));
            javalin.routes.get(ApiDocs.DOCS_PATH, ctx -> {
                SecurityHeaders.html(ctx, SecurityHeaders.POLICY_DOCS);
                ctx.contentType(ApiDocs.DOCS_CONTENT_TYPE).result(ApiDocs.docsHtml());
            });
            javalin.routes.get(ApiDocs.DOCS_SCRIPT_PATH,
                    ctx -> ctx.contentType(ApiDocs.DOCS_SCRIPT_CONTENT_TYPE).result(ApiDocs.docsScript()));
            javalin.staticFiles.enableWebjars();

            javalin.routes.exception(ApiException.class, (e, ctx) -> writeError(ctx, e));
            javalin.routes.exception(HttpResponseException.class, (e, ctx) -> {
                if (e.getStatus() == 405) {
                    ctx.header("Allow", allowedMethods(e));
                }
                writeError(ctx, fromJavalin(e));
            });
            javalin.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("unexpected failure on {} {}", ctx.method(), ctx.path(), e);
                writeError(ctx, new ApiException(500, "internal_error",
                        "Something went wrong on the server; it has been logged."));
            });
            javalin.routes.error(404, ctx -> writeIfBare(ctx, new ApiException(404, "not_found",
                    "There is no such route: " + ctx.method() + " " + ctx.path() + ".")));
            javalin.routes.error(405, ctx -> writeIfBare(ctx, methodNotAllowed(ctx)));
            javalin.routes.error(413, ctx -> writeIfBare(ctx, bodyTooLarge(config)));
            javalin.requestLogger.http((ctx, millis) -> {
                if (!REQUESTS.isInfoEnabled()) {
                    return;
                }
                Object seq = ctx.attribute(Api.SEQ_ATTRIBUTE);
                // The path only: a verification code travels in the query string, a token in a header.
                // Built by hand: String.format and the logger's {} formatting were most of its cost.
                long tenths = Math.round(millis * 10.0);
                StringBuilder line = new StringBuilder(64).append(ctx.method()).append(' ').append(ctx.path())
                        .append(' ').append(ctx.statusCode());
                if (seq != null) {
                    line.append(" seq=").append(seq);
                }
                line.append(' ').append(tenths / 10).append('.').append(tenths % 10).append("ms");
                REQUESTS.info(line.toString());
            });
        });
        this.maxBody = config.requestBodyBytesMax();
    }

    private final long maxBody;

    /** Starts listening; port 0 picks a free one ({@link #port()}). */
    public BankServer start(String host, int port) {
        app.start(host, port);
        return this;
    }

    public int port() {
        return app.port();
    }

    /** Stops taking requests; those under way finish first. */
    @Override
    public void close() {
        app.stop();
    }

    long maxBody() {
        return maxBody;
    }

    /**
     * Answers an outcome of a state-changing command: the reply built from the committed outcome,
     * the first reply again for a replay (from the operations read model, with
     * {@code Idempotent-Replayed: true}), or the error of a refusal or failure.
     */
    static void reply(Context ctx, Api api, Outcome outcome, long scope, Idempotency idempotency,
                      Function<Outcome.Committed, Replies.Reply> committedReply) {
        Replies.Reply reply = switch (outcome) {
            case Outcome.Committed committed -> committedReply.apply(committed);
            case Outcome.Replayed replayed -> {
                api.await(api.readModels.operations(), replayed.seq());
                Operation operation = api.readModels.operations().replayed(scope, idempotency.key(), replayed.seq())
                        .orElseThrow(Errors::readModelLagging);
                ctx.header(Api.REPLAYED_HEADER, "true");
                yield Replies.of(operation);
            }
            case Outcome.Rejected rejected -> throw Errors.of(rejected.reason());
            case Outcome.Unavailable unavailable -> throw Errors.of(unavailable);
        };
        Object seq = reply.body().get("seq");
        if (seq != null) {
            ctx.attribute(Api.SEQ_ATTRIBUTE, seq);
        }
        ctx.status(reply.status()).json(reply.body());
    }

    private static void health(Context ctx, Engine engine, BankMetrics metrics) {
        Engine.Health health = engine.health();
        List<String> problems = new ArrayList<>(health.problems());
        if (metrics.diskSpace().isLow(DiskSpace.LOW_THRESHOLD_BYTES_DEFAULT)) {
            problems.add("free disk space of the data directory is below "
                    + DiskSpace.LOW_THRESHOLD_BYTES_DEFAULT + " bytes: " + metrics.diskSpace().freeBytes());
        }
        String status = !health.writable() ? "failed" : problems.isEmpty() ? "ok" : "degraded";
        Map<String, Object> body = Replies.map("status", status, "last_seq", health.committedSeq());
        if (!problems.isEmpty()) {
            body.put("problems", problems);
        }
        if (!health.writable()) {
            ctx.header("Retry-After", "60");
        }
        ctx.status(health.writable() ? 200 : 503).json(body);
    }

    private static void writeError(Context ctx, ApiException e) {
        ctx.attribute(ERROR_WRITTEN, Boolean.TRUE);
        if (e.retryAfterSeconds() != null) {
            ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        }
        if (mayLeaveBodyUnread(ctx, e)) {
            // Jetty closes a connection whose request body was left unread past what it drains, after
            // the reply; saying so in the reply keeps a keep-alive client from sending its next
            // request on a connection about to close (it would get no reply at all).
            ctx.header("Connection", "close");
        }
        ctx.status(e.status()).json(Replies.map("error", e.code(), "message", e.getMessage()));
    }

    /** A body too large, or refused before it was read while longer than Jetty drains. */
    private static boolean mayLeaveBodyUnread(Context ctx, ApiException e) {
        long length = ctx.req().getContentLengthLong();
        boolean chunked = length < 0 && ctx.header("Transfer-Encoding") != null;
        return e.status() == 413 || chunked || length > UNREAD_BODY_BYTES_KEPT_ALIVE;
    }

    private static void writeIfBare(Context ctx, ApiException e) {
        if (ctx.attribute(ERROR_WRITTEN) == null) {
            writeError(ctx, e);
        }
    }

    private ApiException fromJavalin(HttpResponseException e) {
        return switch (e.getStatus()) {
            case 404 -> new ApiException(404, "not_found", "There is no such route.");
            case 405 -> new ApiException(405, "method_not_allowed", "This route does not take this method.");
            case 413 -> new ApiException(413, "body_too_large", "The body is larger than the limit of " + maxBody
                    + " bytes.");
            default -> new ApiException(e.getStatus() >= 500 ? 500 : 400,
                    e.getStatus() >= 500 ? "internal_error" : "invalid_field", JsonBody.sanitize(e.getMessage()));
        };
    }

    /**
     * The methods the route takes, for the Allow header every 405 must carry (RFC 9110, 15.5.6):
     * Javalin finds them, and hands them over as the one value of the 405's details, as
     * {@code "GET, POST"}.
     */
    private static String allowedMethods(HttpResponseException e) {
        List<String> methods = new ArrayList<>();
        for (String value : e.getDetails().values()) {
            for (String method : value.split(",")) {
                if (!method.isBlank()) {
                    methods.add(method.strip().toUpperCase(java.util.Locale.ROOT));
                }
            }
        }
        return String.join(", ", methods);
    }

    private static ApiException methodNotAllowed(Context ctx) {
        return new ApiException(405, "method_not_allowed", ctx.method() + " is not allowed on " + ctx.path() + ".");
    }

    private static ApiException bodyTooLarge(Config config) {
        return new ApiException(413, "body_too_large", "The body is larger than the limit of "
                + config.requestBodyBytesMax() + " bytes.");
    }

    private static byte[] serverKeyOf(Engine engine) {
        if (engine.config().serverKey() != null) {
            return engine.config().serverKey();
        }
        try {
            return ServerKey.loadOrCreate(engine.config().dataDirectory());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the server key", e);
        }
    }
}
