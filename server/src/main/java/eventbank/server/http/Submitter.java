package eventbank.server.http;

import eventbank.core.Command;
import eventbank.engine.Engine;
import eventbank.engine.cluster.ClusterNode;
import eventbank.engine.write.Outcome;
import eventbank.server.metrics.BankMetrics;
import java.util.concurrent.ExecutionException;

/** Hands commands to the engine and waits for their outcomes, counting each in the metrics. */
final class Submitter {
    private final Engine engine;
    private final BankMetrics metrics;

    Submitter(Engine engine, BankMetrics metrics) {
        this.engine = engine;
        this.metrics = metrics;
    }

    /**
     * In a cluster, the leader's URL while this node does not lead (null while no node leads);
     * null on the leader and with a journal of this node's own. Throws {@code not_leader} when
     * this node does not lead and none does.
     */
    String leaderElsewhere() {
        ClusterNode node = engine.node();
        if (node == null || node.sequencer() != null) {
            return null;
        }
        String leaderUrl = node.leaderUrl();
        if (leaderUrl == null) {
            throw ApiException.notLeader(null);
        }
        return leaderUrl;
    }

    /** Submits and waits for the outcome; the engine answers every command. */
    Outcome submit(Command command) {
        try {
            Outcome outcome = notLeaderChecked(engine.submit(command).get());
            metrics.record(outcome);
            return outcome;
        } catch (InterruptedException e) {
            throw interruptedAfterSubmitting();
        } catch (ExecutionException e) {
            throw new IllegalStateException("the engine failed a command", e.getCause());
        }
    }

    /**
     * The outcome, unless it is {@code not_leader}: that is answered with the leader's URL. In a
     * cluster, {@code journal_failed} is too: a leader that was deposed answers the commands
     * queued behind its fenced batch so, and none of them was recorded.
     */
    private Outcome notLeaderChecked(Outcome outcome) {
        if (outcome instanceof Outcome.Unavailable unavailable
                && (unavailable.failure() == Outcome.Failure.NOT_LEADER
                    || unavailable.failure() == Outcome.Failure.JOURNAL_FAILED && engine.node() != null)) {
            metrics.record(outcome);
            throw notLeader();
        }
        return outcome;
    }

    private ApiException notLeader() {
        ClusterNode node = engine.node();
        return ApiException.notLeader(node == null ? null : node.leaderUrl());
    }

    /**
     * The answer when the wait for a submitted command is interrupted (the HTTP server stopping
     * under a request). The command is in the engine and may still commit, so the outcome is
     * unknown: not {@code busy}, which tells a client that nothing was recorded. The interrupt is
     * not set again, on purpose: this thread's last work is to write that reply, and with the
     * flag set Jetty's blocking write fails, which turned the reply into Jetty's own 500 page
     * (finding 3 of docs/RELIABILITY.md). The thread ends with the request anyway.
     */
    private static ApiException interruptedAfterSubmitting() {
        return new ApiException(503, "commit_outcome_unknown", "The server is stopping, and the change may or may"
                + " not have been recorded; retry with the same Idempotency-Key in a moment.", 1);
    }
}
