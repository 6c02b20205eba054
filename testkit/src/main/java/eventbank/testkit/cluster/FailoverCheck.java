package eventbank.testkit.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The checks after a run of failovers, once the clients have stopped: every acknowledged
 * command is in the journal once, where and as it was acknowledged (and nothing else of the
 * run is); the journal reads whole with its hash chain; each running node shows the journal's
 * head and, for every account, the balance the acknowledged commands imply; and the money is
 * all there, but what was withdrawn.
 */
public final class FailoverCheck {
    private static final long POLL_MILLIS = 20;

    /**
     * @param acknowledged the commands acknowledged
     * @param lost         those of them the journal does not hold
     * @param journalSeq   the journal's last seq
     * @param problems     every disagreement found, empty when all is well
     */
    public record Verdict(int acknowledged, int lost, long journalSeq, List<String> problems) {}

    private FailoverCheck() {}

    /**
     * @param keyPrefix what the run's Idempotency-Keys start with
     * @param timeout   how long each node may take to show the journal's head
     */
    public static Verdict check(LocalCluster cluster, Ledger ledger, List<MoneyClients.Account> accounts,
                                String keyPrefix, Duration timeout) throws IOException, InterruptedException {
        return check(cluster, ledger, accounts, keyPrefix, timeout, cluster.settings().journalUrl());
    }

    /**
     * {@link #check(LocalCluster, Ledger, List, String, Duration)} with the journal read at
     * {@code journalUrl}: the primary's, when the nodes' URL may lead to a standby.
     */
    public static Verdict check(LocalCluster cluster, Ledger ledger, List<MoneyClients.Account> accounts,
                                String keyPrefix, Duration timeout, String journalUrl)
            throws IOException, InterruptedException {
        List<String> problems = new ArrayList<>();
        ledger.unresolved().forEach(command -> problems.add(command + " never got a definite answer"));
        problems.addAll(ledger.unexpected());
        JournalAudit audit = JournalAudit.read(journalUrl);
        problems.addAll(audit.disagreements(ledger, keyPrefix));
        int lost = (int) ledger.acked().stream().filter(ack -> audit.withKey(ack.command().key()).isEmpty()).count();

        List<String> numbers = accounts.stream().map(MoneyClients.Account::number).toList();
        Map<String, Long> expected = ledger.balances(numbers);
        // The journal holds these accounts alone: their money is the openings, less what was withdrawn.
        long total = numbers.stream().map(audit::balance).mapToLong(balance -> balance == null ? 0 : balance).sum();
        if (total != numbers.size() * Ledger.OPENING_BALANCE - audit.withdrawn()
                || audit.withdrawn() != ledger.withdrawn()) {
            problems.add("the journal's balances add up to " + total + " with " + audit.withdrawn() + " withdrawn;"
                    + " the openings were " + numbers.size() * Ledger.OPENING_BALANCE + ", the acknowledged"
                    + " withdrawals " + ledger.withdrawn());
        }
        for (String number : numbers) {
            if (!expected.get(number).equals(audit.balance(number))) {
                problems.add("account " + number + " has " + audit.balance(number) + " in the journal, "
                        + expected.get(number) + " by the acknowledged commands");
            }
        }
        for (NodeProcess node : cluster.nodes()) {
            if (node.alive()) {
                problems.addAll(nodeDisagreements(cluster, node, audit, accounts, expected, timeout));
            }
        }
        return new Verdict(ledger.ackedCount(), lost, audit.lastSeq(), problems);
    }

    /** Where the node's head or an account's balance on it is not the journal's. */
    private static List<String> nodeDisagreements(LocalCluster cluster, NodeProcess node, JournalAudit audit,
                                                  List<MoneyClients.Account> accounts, Map<String, Long> expected,
                                                  Duration timeout) throws InterruptedException {
        List<String> problems = new ArrayList<>();
        JsonHttp http = new JsonHttp(timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode head = auditHead(http, node);
        while (head.path("seq").asLong() != audit.lastSeq() && System.nanoTime() - deadline < 0) {
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
            head = auditHead(http, node);
        }
        if (head.path("seq").asLong() != audit.lastSeq() || !head.path("hash").asText().equals(audit.headHashHex())) {
            problems.add(node + " shows the head " + head + ", the journal ends at seq " + audit.lastSeq()
                    + " with hash " + audit.headHashHex());
        }
        for (MoneyClients.Account account : accounts) {
            JsonNode shown = accountAt(http, node, account, audit.lastSeq(), deadline);
            if (shown.path("balance").asLong(Long.MIN_VALUE) != expected.get(account.number())) {
                problems.add(node + " shows account " + account.number() + " as " + shown + ", expected balance "
                        + expected.get(account.number()));
            }
        }
        return problems;
    }

    private static JsonNode auditHead(JsonHttp http, NodeProcess node) throws InterruptedException {
        try {
            return http.operatorGet(node.url(), "/api/admin/audit/head", LocalCluster.OPERATOR_KEY).body();
        } catch (IOException noAnswer) {
            return JsonHttp.JSON.getNodeFactory().textNode("no answer: " + noAnswer);
        }
    }

    /** {@code GET /api/account?min_seq=}, asked again on a 503 (the read model still behind) until the deadline. */
    private static JsonNode accountAt(JsonHttp http, NodeProcess node, MoneyClients.Account account, long seq,
                                      long deadline) throws InterruptedException {
        while (true) {
            JsonHttp.Reply reply;
            try {
                reply = http.get(node.url(), "/api/account?min_seq=" + seq, account.token());
            } catch (IOException noAnswer) {
                reply = null;
            }
            if (reply != null && reply.status() != 503 || System.nanoTime() - deadline > 0) {
                return reply == null ? JsonHttp.JSON.getNodeFactory().textNode("no answer") : reply.body();
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
    }
}
