package eventbank.server.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.sun.management.UnixOperatingSystemMXBean;
import eventbank.engine.Engine;
import eventbank.engine.ServerKey;
import eventbank.server.config.Config;
import eventbank.server.config.HttpLimits;
import eventbank.server.json.InvalidJsonException;
import eventbank.server.json.JsonBody;
import eventbank.server.mail.Outbox;
import eventbank.server.mail.VerificationResender;
import eventbank.server.metrics.BankMetrics;
import eventbank.server.openapi.ApiDocs;
import eventbank.server.readmodel.ReadModels;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import io.javalin.router.ParsedEndpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
            // In front of that: a refused body is drained after the stop has counted its request.
            server.insertHandler(new LingeringClose());
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
     * @param clock    the server's one clock, which the engine, the outbox and the resender read too
     */
    public BankServer(Engine engine, ReadModels readModels, Outbox outbox, VerificationResender resender,
                      Config config, Clock clock) {
        byte[] serverKey = serverKeyOf(engine);
        Tokens tokens = new Tokens(serverKey, config.auth().tokenTtl(), clock);
        BankMetrics metrics = new BankMetrics(engine, readModels.all());
        metrics.registerMail(outbox, resender);
        Route.Controllers controllers = controllers(engine, readModels, outbox, resender, config, clock, tokens,
                IdempotencyKeys.derivedFrom(serverKey), metrics);
        ObjectMapper mapper = JsonMapper.builder(JsonBody.factory())
                // Reply records name their fields in camelCase; the API's are snake_case (DESIGN.md).
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .addModule(Replies.module())
                .build();

        this.app = Javalin.create(javalin -> {
            configureHttpStack(javalin, config.http().connections());
            javalin.jetty.modifyHttpConfiguration(http -> http.addCustomizer(new SecurityHeaders()));
            javalin.http.prefer405over404 = true;
            javalin.http.maxRequestSize = config.http().requestBodyBytesMax();
            javalin.appData(Requests.BODY_BYTES_MAX, config.http().requestBodyBytesMax());
            javalin.jsonMapper(new JavalinJackson(mapper, true));

            for (Route route : registrationOrder()) {
                javalin.routes.addHttpHandler(route.method(), route.path(), route.handler(controllers));
            }

            javalin.routes.exception(ApiException.class, (e, ctx) -> writeError(ctx, e));
            javalin.routes.exception(InvalidJsonException.class,
                    (e, ctx) -> writeError(ctx, new ApiException(400, e.code(), e.getMessage())));
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
                long seq = Replies.takeSeq(ctx);
                if (!REQUESTS.isInfoEnabled()) {
                    return;
                }
                // The path only: a verification code travels in the query string, a token in a header.
                // Built by hand: String.format and the logger's {} formatting were most of its cost.
                long tenths = Math.round(millis * 10.0);
                StringBuilder line = new StringBuilder(64).append(ctx.method()).append(' ').append(ctx.path())
                        .append(' ').append(ctx.statusCode());
                if (seq > 0) {
                    line.append(" seq=").append(seq);
                }
                line.append(' ').append(tenths / 10).append('.').append(tenths % 10).append("ms");
                REQUESTS.info(line.toString());
            });
        });
        this.maxBody = config.http().requestBodyBytesMax();
    }

    private final long maxBody;

    /**
     * Every route, the money routes first. Javalin tries a request's method's routes in the order
     * registered, a regular expression each, until one matches: a single transfer, the commonest
     * request by far, was tried after three other POST routes. No other route of the table matches a
     * money route's path (they are exact paths), so the order changes no answer.
     */
    private static List<Route> registrationOrder() {
        List<Route> first = List.of(Route.TRANSFER, Route.TRANSFERS, Route.WITHDRAW);
        List<Route> order = new ArrayList<>(first);
        for (Route route : Route.values()) {
            if (!first.contains(route)) {
                order.add(route);
            }
        }
        return order;
    }

    /** Starts listening; port 0 picks a free one ({@link #port()}). */
    public BankServer start(String host, int port) {
        app.start(host, port);
        LOG.info("listening on port {}, {} ms after the JVM started", app.port(),
                ManagementFactory.getRuntimeMXBean().getUptime());
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

    /** The routes registered with Javalin, each as {@code METHOD path}. */
    public List<String> registeredRoutes() {
        List<String> routes = new ArrayList<>();
        for (ParsedEndpoint registered : app.unsafe.internalRouter.allHttpHandlers()) {
            routes.add(registered.endpoint.method.name() + " " + registered.endpoint.path);
        }
        return routes;
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
        ctx.status(e.status()).json(new Errors.Body(e.code(), e.getMessage(), e.leaderUrl()));
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
                + config.http().requestBodyBytesMax() + " bytes.");
    }

    /** Every controller, each given the parts it needs and nothing more. */
    private static Route.Controllers controllers(Engine engine, ReadModels readModels, Outbox outbox,
                                                 VerificationResender resender, Config config, Clock clock,
                                                 Tokens tokens, IdempotencyKeys idempotencyKeys, BankMetrics metrics) {
        Authenticator authenticator = new Authenticator(tokens, config.auth().operatorKey());
        Submitter submitter = new Submitter(engine, metrics);
        ReadWaits waits = new ReadWaits(engine::committedSeq,
                () -> engine.node() != null && engine.sequencer() == null, READ_WAIT);
        Outcomes outcomes = new Outcomes(readModels.operations(), waits);
        Passwords passwords = new Passwords(config.auth().bcryptCost());
        RateLimiters limiters = RateLimiters.of(config.limits(), clock);
        return new Route.Controllers(
                new AccountsController(authenticator, idempotencyKeys, submitter, outcomes, waits, readModels,
                        passwords, limiters, resender),
                new ExportController(authenticator, waits, readModels, outbox, clock),
                new LoginController(tokens, readModels.accounts(), waits, passwords, new LoginThrottle(clock)),
                new MoneyController(authenticator, idempotencyKeys, submitter, outcomes, waits, readModels.accounts(),
                        limiters.moneyCommandsPerAccount()),
                new OperationsController(authenticator, readModels.operations(), waits, clock),
                new AdminController(authenticator, engine, submitter, outcomes),
                new ReportsController(authenticator, readModels.reports(), waits, clock),
                new ExplorerController(authenticator, engine, readModels.statements(), waits),
                new WhatIfController(authenticator, engine, config.limits().whatIfReplayEventsMax()),
                new MailAdminController(authenticator, outbox,
                        () -> engine.node() == null ? null : engine.node().leaderUrl()),
                new HealthController(engine, readModels.all(), metrics, config.cluster().nodeUrl().toString()),
                new DocsController(),
                new WebPages(config.mail().transport().name().toLowerCase(java.util.Locale.ROOT)));
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
