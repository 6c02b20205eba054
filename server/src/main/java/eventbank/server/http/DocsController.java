package eventbank.server.http;

import eventbank.server.openapi.ApiDocs;
import io.javalin.http.Context;

/** The API's description ({@code GET /openapi.json}) and the page that shows it ({@code GET /docs}). */
final class DocsController {
    void openapi(Context ctx) {
        ctx.contentType(ApiDocs.OPENAPI_CONTENT_TYPE).result(ApiDocs.openapiJson());
    }

    void page(Context ctx) {
        SecurityHeaders.html(ctx, SecurityHeaders.POLICY_DOCS);
        ctx.contentType(ApiDocs.DOCS_CONTENT_TYPE).result(ApiDocs.docsHtml());
    }

    void script(Context ctx) {
        ctx.contentType(ApiDocs.DOCS_SCRIPT_CONTENT_TYPE).result(ApiDocs.docsScript());
    }
}
