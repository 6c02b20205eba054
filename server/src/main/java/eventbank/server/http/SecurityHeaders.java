package eventbank.server.http;

import eventbank.server.openapi.ApiDocs;
import io.javalin.http.Context;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.PreEncodedHttpField;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;

/**
 * The headers that keep replies where they belong (finding 8 of docs/RELIABILITY.md), added by
 * Jetty to every reply before any handler runs, so that errors, 404s, 405s and static files
 * carry them as well as the routes' own replies:
 * <ul>
 *   <li>{@code X-Content-Type-Options: nosniff} on every reply: a browser takes a reply for what
 *       its Content-Type says, never for a script or a page it guesses from the bytes (an error
 *       message echoes a little of what the client sent).</li>
 *   <li>{@code Cache-Control: no-store} on every reply but the API's description, its page and
 *       the web app's files: replies hold tokens, balances and statements, and no browser or
 *       proxy cache may keep them (a shared computer's back button, a corporate proxy). The
 *       description, the swagger-ui files and the web app's pages are the same for everyone and
 *       may be cached ({@link WebPages} says how).</li>
 * </ul>
 * HTML pages add a restrictive Content-Security-Policy and {@code Referrer-Policy: no-referrer}
 * with {@link #html(Context, String)}.
 */
final class SecurityHeaders implements HttpConfiguration.Customizer {
    /**
     * The policy of {@code /docs}: scripts, styles, images and the description from this server
     * only, no inline script (the page's own starts from a file). swagger-ui sets inline styles
     * on the elements it builds and draws its icons from {@code data:} URLs, so those are let in:
     * neither runs code.
     */
    static final String POLICY_DOCS = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
            + "frame-ancestors 'none'";

    /**
     * The policy of the web app's pages ({@link WebPages}): their scripts, styles and the API
     * from this server only; no inline script or style, no plugin, no frame; forms post here.
     */
    static final String POLICY_WEB_APP = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /**
     * The verification landing page: the app's style sheet and icon, nothing else. Its URL holds
     * the code, so it runs no script at all.
     */
    static final String POLICY_LANDING_PAGE = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
            + "form-action 'none'; frame-ancestors 'none'";

    private static final HttpField NO_SNIFF = new PreEncodedHttpField("X-Content-Type-Options", "nosniff");
    private static final HttpField NO_STORE = new PreEncodedHttpField(HttpHeader.CACHE_CONTROL, "no-store");

    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders) {
        responseHeaders.add(NO_SNIFF);
        if (!isPublicFile(request.getHttpURI().getCanonicalPath())) {
            responseHeaders.add(NO_STORE);
        }
        return request;
    }

    private static boolean isPublicFile(String path) {
        return path != null && (path.equals(ApiDocs.OPENAPI_PATH) || path.equals(ApiDocs.DOCS_PATH)
                || path.equals(ApiDocs.DOCS_SCRIPT_PATH) || path.startsWith(ApiDocs.SWAGGER_UI_URL_PREFIX)
                || path.equals("/") || path.equals("/console") || path.startsWith(WebPages.ASSETS_PREFIX));
    }

    /**
     * The headers of an HTML page: its policy, and no Referer to whatever it links to or loads
     * (the verification page's URL holds the code).
     */
    static void html(Context ctx, String policy) {
        ctx.header("Content-Security-Policy", policy);
        ctx.header("Referrer-Policy", "no-referrer");
    }
}
