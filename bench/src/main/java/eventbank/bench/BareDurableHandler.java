package eventbank.bench;

import eventbank.server.config.HttpLimits;
import eventbank.server.http.BankServer;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.javalin.Javalin;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The baseline for the HTTP target, on several HTTP stacks (issue 17's spike): one route,
 * {@code POST /api/money_transfer}, doing {@link DurableTransfers}' work (bearer token from a
 * cache, JSON body, group-commit fsync, JSON reply). No bank. {@code --stack}:
 * <ul>
 *   <li>{@code javalin}: the server's stack, Javalin 7 on Jetty 12 with virtual threads, set up by
 *       {@link BankServer#configureHttpStack} as the server is;</li>
 *   <li>{@code jetty}: Jetty 12's core {@code Handler} API, no servlets and no Javalin, the same
 *       Jetty version and settings (no header cache, the connection limit, the idle timeout);
 *       Jetty's own thread pool with virtual threads for the blocking handler;</li>
 *   <li>{@code helidon}: Helidon SE 4's WebServer, built for virtual threads (a virtual thread per
 *       connection, blocking handlers, its own HTTP/1.1 code on plain sockets);</li>
 *   <li>{@code netty}: Netty 4.2, NIO event loops, the reply written from the event loop when the
 *       group commit completes (no thread per request at all);</li>
 *   <li>{@code netty-vt}: the same, but each request handled on a virtual thread of its own that
 *       waits for its commit, as eventbank's controllers do (blocking code on an event loop).</li>
 * </ul>
 *
 * <p>{@code java -cp bench/target/benchmarks.jar eventbank.bench.BareDurableHandler --stack S
 * --port P --data-dir D --key HEX32} (the key is the HS256 secret, at least 32 bytes as hex).
 */
public final class BareDurableHandler {
    private static final String PATH = "/api/money_transfer";

    public static void main(String[] args) throws Exception {
        String stack = "javalin";
        int port = 0;
        Path dir = null;
        String keyHex = null;
        boolean cache = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--stack" -> stack = args[++i];
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--data-dir" -> dir = Path.of(args[++i]);
                case "--key" -> keyHex = args[++i];
                case "--no-token-cache" -> cache = false;
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        DurableTransfers transfers = new DurableTransfers(dir, HexFormat.of().parseHex(keyHex), cache);
        AutoCloseable server = switch (stack) {
            case "javalin" -> javalin(transfers, port);
            case "jetty" -> jetty(transfers, port);
            case "helidon" -> helidon(transfers, port);
            case "netty" -> netty(transfers, port, false);
            case "netty-vt" -> netty(transfers, port, true);
            default -> throw new IllegalArgumentException("--stack is javalin, jetty, helidon, netty or netty-vt");
        };
        System.out.println("bare handler (" + stack + ") listening on " + port);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (Exception ignored) {
                // stopping anyway
            }
        }));
        Thread.currentThread().join();
    }

    private static AutoCloseable javalin(DurableTransfers transfers, int port) {
        Javalin app = Javalin.create(cfg -> {
            BankServer.configureHttpStack(cfg, HttpLimits.defaults());
            cfg.routes.post(PATH, ctx -> {
                DurableTransfers.Reply reply = transfers.transfer(ctx.header("Authorization"), ctx.bodyAsBytes());
                ctx.status(reply.status()).contentType("application/json").result(reply.body());
            });
        });
        app.start("127.0.0.1", port);
        return app::stop;
    }

    private static AutoCloseable jetty(DurableTransfers transfers, int port) throws Exception {
        HttpLimits limits = HttpLimits.defaults();
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("jetty");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setHeaderCacheSize(0);
        http.setSendServerVersion(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        connector.setIdleTimeout(limits.idleTimeout().toMillis());
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(limits.connectionsMax(), server));
        // Not Handler.Abstract.NonBlocking: the handler waits for its fsync, so Jetty runs it on
        // a virtual thread of the pool, as the server's controllers run.
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                if (!request.getHttpURI().getPath().equals(PATH) || !request.getMethod().equals("POST")) {
                    return false;
                }
                byte[] body = BufferUtil.toArray(Content.Source.asByteBuffer(request));
                DurableTransfers.Reply reply = transfers.transfer(request.getHeaders().get(HttpHeader.AUTHORIZATION), body);
                response.setStatus(reply.status());
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, reply.body().length);
                response.write(true, ByteBuffer.wrap(reply.body()), callback);
                return true;
            }
        });
        server.start();
        return server::stop;
    }

    private static AutoCloseable helidon(DurableTransfers transfers, int port) {
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(port)
                .maxTcpConnections(HttpLimits.defaults().connectionsMax())
                .routing(routing -> routing.post(PATH, (request, response) -> {
                    DurableTransfers.Reply reply = transfers.transfer(
                            request.headers().first(HeaderNames.AUTHORIZATION).orElse(null),
                            request.content().as(byte[].class));
                    response.status(Status.create(reply.status()));
                    response.header(HeaderNames.CONTENT_TYPE, "application/json");
                    response.send(reply.body());
                }))
                .build()
                .start();
        return server::stop;
    }

    private static AutoCloseable netty(DurableTransfers transfers, int port, boolean virtualThreads)
            throws InterruptedException {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        Channel channel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        channel.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(64 * 1024),
                                virtualThreads ? new NettyBlockingTransfers(transfers) : new NettyTransfers(transfers));
                    }
                })
                .bind("127.0.0.1", port).sync().channel();
        return () -> {
            channel.close().sync();
            group.shutdownGracefully().sync();
        };
    }

    /** The route on Netty: the reply is written on the connection's event loop once durable. */
    private static final class NettyTransfers extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final DurableTransfers transfers;

        NettyTransfers(DurableTransfers transfers) {
            this.transfers = transfers;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.method().equals(HttpMethod.POST) || !request.uri().equals(PATH)) {
                write(ctx, new DurableTransfers.Reply(404, "{\"error\":\"not_found\"}".getBytes()), keepAlive);
                return;
            }
            byte[] body = new byte[request.content().readableBytes()];
            request.content().readBytes(body);
            DurableTransfers.Submitted submitted = transfers.submit(
                    request.headers().get(HttpHeaderNames.AUTHORIZATION), body);
            if (submitted.refused() != null) {
                write(ctx, submitted.refused(), keepAlive);
                return;
            }
            submitted.durable().whenComplete((seq, failure) -> ctx.executor().execute(() -> write(ctx,
                    failure != null ? new DurableTransfers.Reply(500, "{\"error\":\"internal_error\"}".getBytes())
                            : transfers.reply(submitted, seq), keepAlive)));
        }

        private static void write(ChannelHandlerContext ctx, DurableTransfers.Reply reply, boolean keepAlive) {
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(reply.status()), Unpooled.wrappedBuffer(reply.body()));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, reply.body().length);
            if (keepAlive) {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(response);
            } else {
                ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }

    /**
     * The route on Netty with a blocking handler: the event loop hands each request to a new
     * virtual thread, which waits for the commit and writes the reply (Netty moves the write to
     * the connection's event loop).
     */
    private static final class NettyBlockingTransfers extends SimpleChannelInboundHandler<FullHttpRequest> {
        private final DurableTransfers transfers;

        NettyBlockingTransfers(DurableTransfers transfers) {
            this.transfers = transfers;
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.method().equals(HttpMethod.POST) || !request.uri().equals(PATH)) {
                NettyTransfers.write(ctx, new DurableTransfers.Reply(404, "{\"error\":\"not_found\"}".getBytes()),
                        keepAlive);
                return;
            }
            byte[] body = new byte[request.content().readableBytes()];
            request.content().readBytes(body);
            String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
            Thread.startVirtualThread(() -> NettyTransfers.write(ctx, transfers.transfer(authorization, body),
                    keepAlive));
        }
    }

    private BareDurableHandler() {}
}
