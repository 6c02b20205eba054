package eventbank.server.openapi;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The API's description ({@code GET /openapi.json}) and its page ({@code GET /docs}), both from
 * the class path: the JSON is a resource of this module and the page uses the swagger-ui
 * webjar's assets, which the HTTP server serves from the class path under
 * {@link #SWAGGER_UI_URL_PREFIX}. Nothing is fetched from the network.
 *
 * <p>Both are loaded or built once, when this class is first used, and handed out as bytes
 * so that a handler writes them without copying or encoding anything per request.
 */
public final class ApiDocs {

    /** The class-path resource holding the OpenAPI 3.1 description. */
    public static final String OPENAPI_RESOURCE = "openapi/openapi.json";

    /** The swagger-ui version of the webjar on the class path; the pom names the same one. */
    public static final String SWAGGER_UI_VERSION = "5.34.1";

    /** Where the webjar keeps its assets on the class path (no leading slash, trailing slash). */
    public static final String SWAGGER_UI_RESOURCE_PREFIX =
            "META-INF/resources/webjars/swagger-ui/" + SWAGGER_UI_VERSION + "/";

    /** The URL path under which the HTTP server serves {@link #SWAGGER_UI_RESOURCE_PREFIX}. */
    public static final String SWAGGER_UI_URL_PREFIX = "/webjars/swagger-ui/" + SWAGGER_UI_VERSION + "/";

    /** The route of the description, which the page loads. */
    public static final String OPENAPI_PATH = "/openapi.json";

    /** The route of the page. */
    public static final String DOCS_PATH = "/docs";

    /**
     * The route of the script that starts swagger-ui on the page: a file rather than an inline
     * script, so that the page's Content-Security-Policy lets no inline script run.
     */
    public static final String DOCS_SCRIPT_PATH = "/docs/start.js";

    public static final String OPENAPI_CONTENT_TYPE = "application/json";
    public static final String DOCS_CONTENT_TYPE = "text/html; charset=utf-8";
    public static final String DOCS_SCRIPT_CONTENT_TYPE = "text/javascript; charset=utf-8";

    /** The webjar's files the page needs. */
    public static final String SWAGGER_UI_BUNDLE = "swagger-ui-bundle.js";
    public static final String SWAGGER_UI_CSS = "swagger-ui.css";

    private static final byte[] OPENAPI_JSON = load(OPENAPI_RESOURCE);
    private static final byte[] DOCS_HTML = buildDocsHtml().getBytes(StandardCharsets.UTF_8);
    private static final byte[] DOCS_SCRIPT = buildDocsScript().getBytes(StandardCharsets.UTF_8);

    private ApiDocs() {}

    /** The bytes of {@code openapi.json}, UTF-8; callers must not modify the array. */
    public static byte[] openapiJson() {
        return OPENAPI_JSON;
    }

    /** The bytes of the {@code /docs} page, UTF-8; callers must not modify the array. */
    public static byte[] docsHtml() {
        return DOCS_HTML;
    }

    /** The bytes of the page's start script, UTF-8; callers must not modify the array. */
    public static byte[] docsScript() {
        return DOCS_SCRIPT;
    }

    /** The class-path prefix of the swagger-ui assets, e.g. {@code META-INF/resources/webjars/swagger-ui/5.34.1/}. */
    public static String swaggerUiResourcePrefix() {
        return SWAGGER_UI_RESOURCE_PREFIX;
    }

    /**
     * The page: swagger-ui's stylesheet and bundle from this server, started by
     * {@link #DOCS_SCRIPT_PATH} on {@code /openapi.json}. The assets are referenced by absolute
     * paths, so the page works whatever URL it is served at (with or without a trailing slash).
     * No inline script: the page is served with a Content-Security-Policy that runs scripts from
     * this server only.
     */
    static String buildDocsHtml() {
        return """
                <!doctype html>
                <html lang="en">
                <head>
                  <meta charset="utf-8">
                  <meta name="viewport" content="width=device-width, initial-scale=1">
                  <title>eventbank API</title>
                  <link rel="stylesheet" href="%1$s%2$s">
                  <link rel="icon" type="image/png" href="%1$sfavicon-32x32.png" sizes="32x32">
                </head>
                <body>
                  <div id="swagger-ui"></div>
                  <script src="%1$s%3$s" charset="utf-8"></script>
                  <script src="%4$s" charset="utf-8"></script>
                </body>
                </html>
                """.formatted(SWAGGER_UI_URL_PREFIX, SWAGGER_UI_CSS, SWAGGER_UI_BUNDLE, DOCS_SCRIPT_PATH);
    }

    /**
     * Starts swagger-ui on {@code /openapi.json}. No preset layout: the standalone preset adds a
     * top bar with a URL box, which would invite loading other specs.
     */
    static String buildDocsScript() {
        return """
                window.addEventListener("load", function () {
                  window.ui = SwaggerUIBundle({
                    url: "%s",
                    dom_id: "#swagger-ui",
                    deepLinking: true,
                    tryItOutEnabled: false,
                    validatorUrl: null,
                    presets: [SwaggerUIBundle.presets.apis],
                    layout: "BaseLayout"
                  });
                });
                """.formatted(OPENAPI_PATH);
    }

    private static byte[] load(String resource) {
        try (InputStream in = ApiDocs.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                // A build that lost the resource is broken; fail when the class loads, not per request.
                throw new IllegalStateException("Missing class-path resource " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read class-path resource " + resource, e);
        }
    }
}
