package eventbank.server.http;

import eventbank.server.openapi.ApiDocs;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * The web app (DESIGN.md, "Web app"): the account holder's pages at {@code /}, the operator's
 * console at {@code /console}, and their scripts and styles at {@code /web/...}, all static files
 * from the classpath's {@code web/} folder that use only the public JSON API.
 * <p>
 * Each file is read once, on its first request, and kept with its gzipped form and an ETag (a
 * digest of its bytes). Replies say {@code Cache-Control: no-cache}: a browser keeps the file
 * and asks again each time with {@code If-None-Match}, which costs a 304 and no body, and a
 * server upgraded to new pages is seen at the next load instead of after some max-age. The
 * files hold nothing personal, so unlike the API's replies they may be kept.
 * <p>
 * A page may name the server's mail transport as {@code {{mail_transport}}} ({@code file},
 * {@code smtp} or {@code mailgun}): the holder's app tells someone who has just opened an
 * account on a development server where the file transport put the mail.
 */
final class WebPages {
    static final String ASSETS_PREFIX = "/web/";
    /** Where the pages and their files are on the class path. */
    private static final String WEB_RESOURCES = "web/";
    /** Letters, digits, dashes, underscores and dots within names: no "..", no hidden files. */
    private static final Pattern ASSET_PATH = Pattern.compile("([A-Za-z0-9_\\-]+/)*[A-Za-z0-9_\\-]+(\\.[A-Za-z0-9]+)+");
    private static final Map<String, String> CONTENT_TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "svg", "image/svg+xml",
            "png", "image/png",
            "ico", "image/x-icon",
            "txt", "text/plain; charset=utf-8",
            "json", "application/json");
    /** Smaller than this, gzip's header and the CPU cost more than they save. */
    private static final int GZIP_MIN_BYTES = 512;

    static final String MAIL_TRANSPORT_PLACEHOLDER = "{{mail_transport}}";

    private final ConcurrentHashMap<String, Optional<File>> files = new ConcurrentHashMap<>();
    private final String mailTransport;

    WebPages(String mailTransport) {
        this.mailTransport = mailTransport;
    }

    /** One file as served: its bytes, gzipped bytes when they are worth it, type and a digest. */
    private record File(byte[] bytes, byte[] gzipped, String contentType, String digest) {}

    /** {@code GET /}: the account holder's app. */
    void holderApp(Context ctx) {
        page(ctx, "index.html");
    }

    /** {@code GET /console}: the operator's console. */
    void console(Context ctx) {
        page(ctx, "console.html");
    }

    /** {@code GET /web/{path}}: a script, style sheet or image of the pages. */
    void asset(Context ctx) {
        sendFile(ctx, WEB_RESOURCES, ctx.path().substring(ASSETS_PREFIX.length()));
    }

    /**
     * {@code GET /webjars/swagger-ui/{version}/{path}}: a file of the swagger-ui webjar, which
     * the {@code /docs} page loads. Served here rather than by Javalin's webjar support, which
     * opened the whole jar as a zip file system at every start (a tenth of a second and more
     * of a restart's critical path, with the benchmarks' jar of 24,000 entries).
     */
    void swaggerUi(Context ctx) {
        sendFile(ctx, ApiDocs.SWAGGER_UI_RESOURCE_PREFIX, ctx.path().substring(ApiDocs.SWAGGER_UI_URL_PREFIX.length()));
    }

    /** The file at {@code path} under the class-path directory {@code root}, or a 404. */
    private void sendFile(Context ctx, String root, String path) {
        File file = ASSET_PATH.matcher(path).matches() ? file(root + path).orElse(null) : null;
        if (file == null || file.contentType().startsWith("text/html")) {
            // Pages have their own routes, with their policy; a page here would run without it.
            throw new ApiException(404, "not_found", "There is no such file: " + ctx.path() + ".");
        }
        send(ctx, file);
    }

    private void page(Context ctx, String name) {
        // Only a build without the page lacks it: the API still works, so a 404 says so.
        File file = file(WEB_RESOURCES + name).orElseThrow(() -> new ApiException(404, "not_found",
                "This server was built without its page " + ctx.path() + "."));
        SecurityHeaders.html(ctx, SecurityHeaders.POLICY_WEB_APP);
        send(ctx, file);
    }

    private static void send(Context ctx, File file) {
        boolean gzip = file.gzipped() != null && acceptsGzip(ctx.header("Accept-Encoding"));
        // Each encoding is a representation of its own, with its own strong ETag.
        String etag = "\"" + file.digest() + (gzip ? "-gzip\"" : "\"");
        ctx.header("Cache-Control", "no-cache");
        ctx.header("ETag", etag);
        ctx.header("Vary", "Accept-Encoding");
        ctx.contentType(file.contentType());
        String ifNoneMatch = ctx.header("If-None-Match");
        if (ifNoneMatch != null && (ifNoneMatch.equals("*") || ifNoneMatch.contains(etag))) {
            ctx.status(304);
            return;
        }
        if (gzip) {
            ctx.header("Content-Encoding", "gzip");
            ctx.result(file.gzipped());
        } else {
            ctx.result(file.bytes());
        }
    }

    /** Whether an Accept-Encoding header lists gzip without refusing it ({@code gzip;q=0}). */
    static boolean acceptsGzip(String acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String coding : acceptEncoding.toLowerCase(Locale.ROOT).split(",")) {
            String[] parts = coding.trim().split(";");
            if (parts[0].trim().equals("gzip")) {
                return parts.length < 2 || !parts[1].trim().matches("q=0(\\.0*)?");
            }
        }
        return false;
    }

    /** The class-path resource at {@code resource}, read once. */
    private Optional<File> file(String resource) {
        return files.computeIfAbsent(resource, this::load);
    }

    private Optional<File> load(String resource) {
        String type = CONTENT_TYPES.get(resource.substring(resource.lastIndexOf('.') + 1));
        if (type == null) {
            return Optional.empty();
        }
        try (InputStream in = WebPages.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                return Optional.empty();
            }
            byte[] bytes = in.readAllBytes();
            if (type.startsWith("text/html")) {
                bytes = new String(bytes, StandardCharsets.UTF_8).replace(MAIL_TRANSPORT_PLACEHOLDER, mailTransport)
                        .getBytes(StandardCharsets.UTF_8);
            }
            byte[] gzipped = bytes.length < GZIP_MIN_BYTES || type.equals("image/png") ? null : gzip(bytes);
            return Optional.of(new File(bytes, gzipped, type, digest(bytes)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + " from the classpath", e);
        }
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length / 3);
        try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
            gzip.write(bytes);
        }
        return out.toByteArray();
    }

    private static String digest(byte[] bytes) {
        try {
            byte[] sha = MessageDigest.getInstance("SHA-256").digest(bytes);
            return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(sha, 16));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }
}
