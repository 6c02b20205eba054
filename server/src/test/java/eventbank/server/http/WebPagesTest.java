package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The web app's files as a browser and a cache see them: type, ETag, 304, gzip, and nothing else. */
class WebPagesTest {
    @TempDir
    static Path directory;
    static TestServer server;
    static final HttpClient CLIENT = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(directory.resolve("data"));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    private static HttpResponse<byte[]> get(String path, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.service.port() + path)).GET();
        if (headers.length > 0) {
            request.headers(headers);
        }
        return CLIENT.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    @Test
    void aScriptIsServedWithItsTypeAndMayBeKeptButIsCheckedAgainEachTime() throws Exception {
        HttpResponse<byte[]> reply = get("/web/api.js");

        assertThat(reply.statusCode()).isEqualTo(200);
        assertThat(reply.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        assertThat(reply.headers().allValues("Cache-Control")).containsExactly("no-cache");
        assertThat(reply.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(new String(reply.body(), StandardCharsets.UTF_8)).contains("export async function api(");

        String etag = reply.headers().firstValue("ETag").orElseThrow();
        HttpResponse<byte[]> again = get("/web/api.js", "If-None-Match", etag);
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        assertThat(again.headers().firstValue("ETag")).hasValue(etag);

        HttpResponse<byte[]> other = get("/web/base.css", "If-None-Match", etag);
        assertThat(other.statusCode()).as("another file's ETag does not match").isEqualTo(200);
        assertThat(other.headers().firstValue("Content-Type")).hasValue("text/css; charset=utf-8");
    }

    @Test
    void aClientThatAcceptsGzipGetsTheSameBytesGzippedUnderItsOwnETag() throws Exception {
        HttpResponse<byte[]> plain = get("/web/base.css");
        HttpResponse<byte[]> gzipped = get("/web/base.css", "Accept-Encoding", "gzip, deflate");

        assertThat(gzipped.headers().firstValue("Content-Encoding")).hasValue("gzip");
        assertThat(gzipped.headers().firstValue("Vary")).hasValue("Accept-Encoding");
        assertThat(gzipped.body().length).isLessThan(plain.body().length);
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped.body()))) {
            assertThat(in.readAllBytes()).isEqualTo(plain.body());
        }
        assertThat(gzipped.headers().firstValue("ETag")).isNotEqualTo(plain.headers().firstValue("ETag"));
        assertThat(get("/web/base.css", "Accept-Encoding", "gzip;q=0").headers().firstValue("Content-Encoding"))
                .isEmpty();
    }

    @Test
    void thePagesComeWithTheirPolicyAndTheServersMailTransport() throws Exception {
        for (String path : new String[] {"/", "/console"}) {
            HttpResponse<byte[]> page = get(path);
            assertThat(page.statusCode()).as(path).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type").orElseThrow()).as(path).startsWith("text/html");
            assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).as(path)
                    .contains("default-src 'none'", "script-src 'self'", "connect-src 'self'",
                            "frame-ancestors 'none'")
                    .doesNotContain("unsafe");
            assertThat(new String(page.body(), StandardCharsets.UTF_8)).as(path)
                    .contains("<script type=\"module\" src=\"/web/").doesNotContain("{{", "style=");
        }
        assertThat(new String(get("/").body(), StandardCharsets.UTF_8))
                .contains("<meta name=\"eventbank-mail-transport\" content=\"file\">");
    }

    @Test
    void onlyTheAppsOwnFilesAreServedAndPagesOnlyWithTheirPolicy() throws Exception {
        for (String path : new String[] {"/web/nothing.js", "/web/../openapi.json", "/web/%2e%2e/logback.xml",
                "/web/.hidden.js", "/web/api.js.bak", "/web/logback.xml", "/web/index.html", "/web/console.html"}) {
            HttpResponse<byte[]> reply = get(path);
            assertThat(reply.statusCode()).as(path).isEqualTo(404);
            assertThat(new String(reply.body(), StandardCharsets.UTF_8)).as(path).doesNotContain("<configuration");
        }
    }

    @Test
    void theVerificationLinkInABrowserIsAPageOfTheAppThatLeadsOnToLogIn() throws Exception {
        String number = server.open("landing@example.com");
        String query = server.verificationQuery(number);

        HttpResponse<byte[]> page = get("/api/verify?" + query, "Accept", "text/html,*/*;q=0.8");
        String html = new String(page.body(), StandardCharsets.UTF_8);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(html).contains("Email address confirmed", "href=\"/web/base.css\"",
                "href=\"/#login?account=" + number + "\"");
        // The URL holds the code: nothing on the page runs, and what it loads does not learn the URL.
        assertThat(html).doesNotContain("<script", "style=", "<img");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                .contains("default-src 'none'", "style-src 'self'").doesNotContain("script-src");
        assertThat(page.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
        assertThat(page.headers().allValues("Cache-Control")).containsExactly("no-store");

        HttpResponse<byte[]> wrong = get("/api/verify?account_number=" + number + "&code=not-the-code",
                "Accept", "text/html");
        assertThat(wrong.statusCode()).isEqualTo(422);
        assertThat(new String(wrong.body(), StandardCharsets.UTF_8))
                .contains("This link did not confirm an address", "href=\"/#resend\"");
    }
}
