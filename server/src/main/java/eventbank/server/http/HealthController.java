package eventbank.server.http;

import com.fasterxml.jackson.annotation.JsonInclude;
import eventbank.engine.Engine;
import eventbank.engine.cluster.ClusterNode;
import eventbank.server.metrics.BankMetrics;
import eventbank.server.readmodel.ReadModel;
import eventbank.server.metrics.DiskSpace;
import io.javalin.http.Context;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What operators, their tools and load balancers watch: {@code GET /health} (200 {@code ok} or
 * {@code degraded} with the problems listed, 503 {@code failed} once the journal failed or the
 * node stopped), {@code GET /health/leader} (200 only on the node that takes commands),
 * {@code GET /health/replica} (200 only on a node that follows the journal and is not behind),
 * and {@code GET /metrics} (Prometheus' text format).
 *
 * <p>After a start, {@code /health} is {@code degraded} until every read model has applied the
 * journal as it was when the server started (from its checkpoint, or from seq 0 when it had
 * none): until then queries may wait for it ({@code min_seq}), and the problem says how far
 * each model is. Once caught up, a model that falls a batch behind under load is no problem.
 */
final class HealthController {
    private static final Logger LOG = LoggerFactory.getLogger(HealthController.class);
    private final Engine engine;
    private final BankMetrics metrics;
    /** A node with a journal of its own leads; {@code leader_url} is then its own {@code node.url}. */
    private final String ownUrl;
    private final List<ReadModel> readModels;
    /** The journal's committed seq when the server started: what the read models catch up to. */
    private final long startSeq;
    /** Set once every read model has reached {@link #startSeq}; never cleared. */
    private volatile boolean caughtUp;

    HealthController(Engine engine, List<ReadModel> readModels, BankMetrics metrics, String ownUrl) {
        this.engine = engine;
        this.readModels = List.copyOf(readModels);
        this.metrics = metrics;
        this.ownUrl = ownUrl;
        this.startSeq = engine.committedSeq();
    }

    /**
     * {@code problems} only when there are any; {@code leader_url} only when a leader is known.
     *
     * @param role      {@code leader}, {@code standby} or {@code reader}
     * @param epoch     the journal's epoch (0 with a journal of this node's own)
     * @param lagEvents events between this node and the journal's durable seq at a head read at
     *                  most a lease old; -1 when there is no such read
     */
    record Health(String status, long lastSeq, String role, long epoch,
                  @JsonInclude(JsonInclude.Include.NON_NULL) String leaderUrl, long lagEvents,
                  @JsonInclude(JsonInclude.Include.NON_NULL) List<String> problems) {}

    void health(Context ctx) {
        Health health = current();
        if (health.status().equals("failed")) {
            ctx.header("Retry-After", "60");
        }
        ctx.status(health.status().equals("failed") ? 503 : 200).json(health);
    }

    /** 200 only on the leader that is sound: where a load balancer sends commands. */
    void leader(Context ctx) {
        Health health = current();
        boolean leads = health.role().equals("leader") && !health.status().equals("failed")
                && engine.leadership().leading();
        ctx.status(leads ? 200 : 503).json(health);
    }

    /** 200 only on a standby or reader that is sound and not behind: where a load balancer sends reads. */
    void replica(Context ctx) {
        Health health = current();
        boolean replica = !health.role().equals("leader") && !health.status().equals("failed")
                && health.lagEvents() == 0;
        ctx.status(replica ? 200 : 503).json(health);
    }

    void metrics(Context ctx) {
        ctx.contentType(BankMetrics.CONTENT_TYPE).result(metrics.scrape());
    }

    /** The read models still catching up to the journal as it was at the start, or null once none is. */
    private String catchingUp() {
        if (caughtUp) {
            return null;
        }
        List<String> behind = new ArrayList<>();
        for (ReadModel model : readModels) {
            long applied = model.appliedSeq();
            if (applied < startSeq) {
                behind.add(model.name() + " at seq " + applied);
            }
        }
        if (behind.isEmpty()) {
            caughtUp = true;
            LOG.info("every read model has caught up to seq {}, {} ms after the JVM started", startSeq,
                    ManagementFactory.getRuntimeMXBean().getUptime());
            return null;
        }
        return "read models catching up to seq " + startSeq + " after the start: " + String.join(", ", behind);
    }

    private Health current() {
        Engine.Health health = engine.health();
        List<String> problems = new ArrayList<>(health.problems());
        String catchingUp = catchingUp();
        if (catchingUp != null) {
            problems.add(catchingUp);
        }
        if (metrics.diskSpace().isLow(DiskSpace.LOW_THRESHOLD_BYTES_DEFAULT)) {
            problems.add("free disk space of the data directory is below "
                    + DiskSpace.LOW_THRESHOLD_BYTES_DEFAULT + " bytes: " + metrics.diskSpace().freeBytes());
        }
        String status = !health.writable() ? "failed" : problems.isEmpty() ? "ok" : "degraded";
        List<String> shown = problems.isEmpty() ? null : problems;
        ClusterNode node = engine.node();
        if (node == null) {
            return new Health(status, health.committedSeq(), "leader", 0, ownUrl, 0, shown);
        }
        ClusterNode.Status cluster = node.status();
        return new Health(status, health.committedSeq(), cluster.role().name().toLowerCase(java.util.Locale.ROOT),
                cluster.epoch(), cluster.leaderUrl(), cluster.lagEvents(), shown);
    }
}
