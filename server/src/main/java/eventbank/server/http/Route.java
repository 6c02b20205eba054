package eventbank.server.http;

import eventbank.server.openapi.ApiDocs;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import java.util.function.Function;

/**
 * Every route the server answers, in one table: {@link BankServer} registers each with its
 * controller's handler, an Idempotency-Key's fingerprint names its route by {@link #toString()}
 * ({@code POST /api/money_transfer}, as journals already hold it), {@code GET /api/operations}
 * names the route that recorded an operation, and a test holds the API description
 * ({@code openapi.json}) to exactly the described ones.
 */
enum Route {
    OPEN_ACCOUNT(HandlerType.POST, "/api/account", c -> c.accounts()::open),
    SHOW_ACCOUNT(HandlerType.GET, "/api/account", c -> c.accounts()::show),
    VERIFY(HandlerType.GET, "/api/verify", c -> c.accounts()::verify),
    RESEND_VERIFICATION(HandlerType.POST, "/api/verify/resend", c -> c.accounts()::resend),
    LOGIN(HandlerType.POST, "/api/login", c -> c.login()::login),
    STATEMENT(HandlerType.GET, "/api/account/transactions", c -> c.accounts()::transactions),
    TRANSFER(HandlerType.POST, "/api/money_transfer", c -> c.money()::transfer),
    TRANSFERS(HandlerType.POST, "/api/money_transfers", c -> c.money()::transfers),
    WITHDRAW(HandlerType.POST, "/api/withdraw", c -> c.money()::withdraw),
    CLOSE_ACCOUNT(HandlerType.POST, "/api/account/close", c -> c.accounts()::close),
    EXPORT_ACCOUNT(HandlerType.GET, "/api/account/export", c -> c.export()::export),
    OPERATION(HandlerType.GET, "/api/operations/{idempotency_key}", c -> c.operations()::show),
    AUDIT_HEAD(HandlerType.GET, "/api/admin/audit/head", c -> c.admin()::auditHead),
    SUM_TRANSACTIONS(HandlerType.GET, "/api/report/sum_transactions", c -> c.reports()::sumTransactions),
    INACTIVE_USERS(HandlerType.GET, "/api/report/inactive_users", c -> c.reports()::inactiveUsers),
    EVENTS(HandlerType.GET, "/api/admin/events", c -> c.explorer()::events),
    STATE(HandlerType.GET, "/api/admin/state", c -> c.explorer()::state),
    ACCOUNT_HISTORY(HandlerType.GET, "/api/admin/accounts/{number}/history", c -> c.explorer()::history),
    FORGET_ACCOUNT(HandlerType.POST, "/api/admin/accounts/{number}/forget", c -> c.admin()::forget),
    WHAT_IF(HandlerType.POST, "/api/admin/what-if", c -> c.whatIf()::whatIf),
    DEAD_LETTERS(HandlerType.GET, "/api/admin/mail/dead", c -> c.mailAdmin()::deadLetters),
    RETRY_DEAD_LETTER(HandlerType.POST, "/api/admin/mail/dead/{seq}/retry", c -> c.mailAdmin()::retry),
    HEALTH(HandlerType.GET, "/health", c -> c.health()::health),
    HEALTH_LEADER(HandlerType.GET, "/health/leader", c -> c.health()::leader),
    HEALTH_REPLICA(HandlerType.GET, "/health/replica", c -> c.health()::replica),
    METRICS(HandlerType.GET, "/metrics", c -> c.health()::metrics),
    OPENAPI(HandlerType.GET, ApiDocs.OPENAPI_PATH, c -> c.docs()::openapi),
    DOCS(HandlerType.GET, ApiDocs.DOCS_PATH, c -> c.docs()::page),
    /** Part of the {@code /docs} page rather than of the API: not in its description. */
    DOCS_SCRIPT(HandlerType.GET, ApiDocs.DOCS_SCRIPT_PATH, c -> c.docs()::script, false),
    /** The web app's pages and files (DESIGN.md, "Web app"): not part of the API either. */
    HOLDER_APP(HandlerType.GET, "/", c -> c.web()::holderApp, false),
    CONSOLE(HandlerType.GET, "/console", c -> c.web()::console, false),
    WEB_FILE(HandlerType.GET, WebPages.ASSETS_PREFIX + "<path>", c -> c.web()::asset, false),
    /** The files of the swagger-ui webjar that the {@code /docs} page loads. */
    SWAGGER_UI_FILE(HandlerType.GET, ApiDocs.SWAGGER_UI_URL_PREFIX + "<path>", c -> c.web()::swaggerUi, false);

    /** The controllers whose handlers the routes name. */
    record Controllers(AccountsController accounts, ExportController export, LoginController login,
                       MoneyController money, OperationsController operations, AdminController admin,
                       ReportsController reports, ExplorerController explorer, WhatIfController whatIf,
                       MailAdminController mailAdmin, HealthController health, DocsController docs, WebPages web) {}

    private final HandlerType method;
    private final String path;
    private final Function<Controllers, Handler> handler;
    private final boolean described;
    private final String name;

    Route(HandlerType method, String path, Function<Controllers, Handler> handler) {
        this(method, path, handler, true);
    }

    Route(HandlerType method, String path, Function<Controllers, Handler> handler, boolean described) {
        this.method = method;
        this.path = path;
        this.handler = handler;
        this.described = described;
        this.name = method.name() + " " + path;
    }

    HandlerType method() {
        return method;
    }

    /** The path, with parameters in braces as both Javalin and OpenAPI write them. */
    String path() {
        return path;
    }

    Handler handler(Controllers controllers) {
        return handler.apply(controllers);
    }

    /** Whether the API description ({@code openapi.json}) describes this route. */
    boolean described() {
        return described;
    }

    /** {@code METHOD path}, such as {@code POST /api/money_transfer}. */
    @Override
    public String toString() {
        return name;
    }
}
