package eventbank.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.management.UnixOperatingSystemMXBean;
import eventbank.core.Idempotency;
import eventbank.engine.Engine;
import eventbank.engine.Outcome;
import eventbank.engine.ServerKey;
import eventbank.server.config.Config;
import eventbank.server.config.HttpLimits;
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
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
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
     * How long a stop waits for the requests under way: longer than the longest a request waits
     * on purpose (a read's {@code min_seq}, {@link #READ_WAIT}), and short enough that the engine
     * and the outbox still stop cleanly within the 10 seconds a container runtime gives by
     * default between SIGTERM and SIGKILL.
     */
    public static final Duration STOP_TIMEOUT = READ_WAIT.plusSeconds(1);
    /**
     * Once {@code http.connections_max} is reached, a connection with nothing to read or write is
     * closed after at most this long (Jetty's {@code NetworkConnectionLimit}), so that idle
     * holders make room for clients waiting in the kernel's queue.
     */
    static final Duration IDLE_TIMEOUT_AT_CONNECTIONS_MAX = Duration.ofSeconds(5);
    /**
     * What the process needs besides its connections: the JVM's jars (about 100), the journal's
     * segments and directory, snapshots, checkpoints and the outbox, with room to spare.
     */
    static final long FILE_DESCRIPTORS_RESERVED = 256;

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
     * And two for trust (docs/RELIABILITY.md): the connection limits of {@code limits} (finding
     * 4), and a graceful stop (finding 11): on stop ({@link #close}) a request that arrives is
     * answered 503 {@code stopping}, the requests under way finish (up to {@link #STOP_TIMEOUT}),
     * and only then does Jetty stop accepting and close the connections.
     */
    public static void configureHttpStack(io.javalin.config.JavalinConfig javalin, HttpLimits limits) {
        javalin.concurrency.useVirtualThreads = true;
        javalin.startup.showJavalinBanner = false;
        javalin.startup.showOldJavalinVersionWarning = false;
        javalin.http.responseBufferSize = 4096;
        javalin.jetty.modifyHttpConfiguration(http -> http.setHeaderCacheSize(0));
        javalin.jetty.modifyServer(server -> {
            server.setStopTimeout(STOP_TIMEOUT.toMillis());
            // In front of everything, so that it counts every request the servlet context handles.
            server.insertHandler(new GracefulStop());
            NetworkConnectionLimit connectionLimit = new NetworkConnectionLimit(limits.connectionsMax(), server);
            connectionLimit.setEndPointIdleTimeout(
                    Math.min(limits.idleTimeout().toMillis(), IDLE_TIMEOUT_AT_CONNECTIONS_MAX.toMillis()));
            server.addBean(connectionLimit);
            server.addBean(new ConnectorTimeouts(server, limits));
        });
        warnIfFileDescriptorsShort(limits);
    }

    /**
     * Sets the idle and header timeouts on the connectors, which Javalin makes only when it
     * starts: a bean of the server starts after they are made and before they accept.
     */
    private static final class ConnectorTimeouts extends AbstractLifeCycle {
        private final Server server;
        private final HttpLimits limits;

        ConnectorTimeouts(Server server, HttpLimits limits) {
            this.server = server;
            this.limits = limits;
        }

        @Override
        protected void doStart() {
            for (Connector connector : server.getConnectors()) {
                if (connector instanceof AbstractConnector network) {
                    network.setIdleTimeout(limits.idleTimeout().toMillis());
                    network.addBean(new HeaderTimeout(network.getScheduler(), limits.headerTimeout()));
                }
            }
        }
    }

    /** A limit above what the process may open protects nothing: say so where operators look. */
    private static void warnIfFileDescriptorsShort(HttpLimits limits) {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean system) {
            long available = system.getMaxFileDescriptorCount();
            if (limits.connectionsMax() + FILE_DESCRIPTORS_RESERVED > available) {
                LOG.warn("http.connections_max={} leaves less than {} of the process's {} file descriptors (ulimit -n)"
                        + " to the journal, snapshots and outbox: raise the limit (systemd LimitNOFILE=) or lower"
                        + " http.connections_max", limits.connectionsMax(), FILE_DESCRIPTORS_RESERVED, available);
            }
        }
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
            configureHttpStack(javalin, config.httpLimits());
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

    /**
     * Stops taking requests; those under way finish first (up to {@link #STOP_TIMEOUT}), and
     * those that arrive meanwhile are answered 503 {@code stopping}. The engine must still run
     * until this returns, or the requests under way would get no reply.
     */
    @Override
    public void close() {
        try {
            GracefulStop.drain(app.jettyServer().server(), STOP_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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
