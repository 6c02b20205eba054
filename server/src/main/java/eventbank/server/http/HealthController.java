package eventbank.server.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import eventbank.engine.Engine;
import eventbank.server.metrics.BankMetrics;
import eventbank.server.metrics.DiskSpace;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;

/**
 * What operators and their tools watch: {@code GET /health} (200 {@code ok} or
 * {@code degraded} with the problems listed, 503 {@code failed} once the journal failed) and
 * {@code GET /metrics} (Prometheus' text format).
 */
final class HealthController {
    private final Engine engine;
    private final BankMetrics metrics;

    HealthController(Engine engine, BankMetrics metrics) {
        this.engine = engine;
        this.metrics = metrics;
    }

    /** {@code problems} only when there are any. */
    record Health(String status, long lastSeq, @JsonInclude(JsonInclude.Include.NON_NULL) List<String> problems) {}

    void health(Context ctx) {
        Engine.Health health = engine.health();
        List<String> problems = new ArrayList<>(health.problems());
        if (metrics.diskSpace().isLow(DiskSpace.LOW_THRESHOLD_BYTES_DEFAULT)) {
            problems.add("free disk space of the data directory is below "
                    + DiskSpace.LOW_THRESHOLD_BYTES_DEFAULT + " bytes: " + metrics.diskSpace().freeBytes());
        }
        String status = !health.writable() ? "failed" : problems.isEmpty() ? "ok" : "degraded";
        if (!health.writable()) {
            ctx.header("Retry-After", "60");
        }
        ctx.status(health.writable() ? 200 : 503)
                .json(new Health(status, health.committedSeq(), problems.isEmpty() ? null : problems));
    }

    void metrics(Context ctx) {
        ctx.contentType(BankMetrics.CONTENT_TYPE).result(metrics.scrape());
    }
}
