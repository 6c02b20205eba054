package eventbank.testkit.cluster;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the clients of a cluster were told: each money command with its Idempotency-Key, and its
 * definite answer (acknowledged with a seq, or rejected), or that it never got one; besides,
 * every answer that was not an acknowledgement (the 503s of a failover), by node and time. Safe
 * for many client threads.
 */
public final class Ledger {
    /** Each account opens with this balance, in cents (the opening bonus). */
    public static final long OPENING_BALANCE = 100_000;

    public enum Kind { TRANSFER, WITHDRAWAL }

    /** A money command as sent, again and again with the same key until its answer is definite. */
    public record Command(String key, Kind kind, String from, String to, long amount) {
        public String path() {
            return kind == Kind.TRANSFER ? "/api/money_transfer" : "/api/withdraw";
        }

        public Map<String, Object> body() {
            return kind == Kind.TRANSFER ? Map.of("to_account_number", to, "amount", amount)
                    : Map.of("amount", amount);
        }
    }

    /** A 200: the command is recorded at {@code seq}, said {@code nodeUrl}. */
    public record Acked(Command command, long seq, String nodeUrl, long receivedNanos, boolean replayed) {}

    /** A definite refusal (422): the command is not recorded. */
    public record Rejected(Command command, String error) {}

    /** An answer that settles nothing (503, or no reply at all: status -1), for the record. */
    public record Unsettled(String nodeUrl, int status, String error, long receivedNanos) {}

    private final List<Acked> acked = new ArrayList<>();
    private final List<Rejected> rejected = new ArrayList<>();
    private final List<Command> unresolved = new ArrayList<>();
    private final List<String> unexpected = new ArrayList<>();
    private final List<Unsettled> unsettled = new ArrayList<>();

    /**
     * Records the command's definite answer: a 200 with its seq, a 422; anything else (a 200
     * without a seq, a 409 for the same body again, a 500) is unexpected; null (no definite
     * answer before the deadline) leaves it unresolved.
     */
    public void settle(Command command, JsonHttp.Reply reply) {
        if (reply == null) {
            unresolved(command);
        } else if (reply.status() == 200 && reply.body().path("seq").canConvertToLong()) {
            acked(new Acked(command, reply.body().get("seq").asLong(), reply.nodeUrl(), reply.receivedNanos(),
                    reply.replayed()));
        } else if (reply.status() == 422) {
            rejected(new Rejected(command, reply.error()));
        } else {
            unexpected(command + " was answered " + reply);
        }
    }

    public synchronized void acked(Acked ack) {
        acked.add(ack);
    }

    public synchronized void rejected(Rejected rejection) {
        rejected.add(rejection);
    }

    /** The command got no definite answer before the clients stopped. */
    public synchronized void unresolved(Command command) {
        unresolved.add(command);
    }

    /** An answer no client should get (a 500, a 409 for a retry of the same body, ...). */
    public synchronized void unexpected(String description) {
        unexpected.add(description);
    }

    public synchronized void unsettled(Unsettled answer) {
        unsettled.add(answer);
    }

    public synchronized List<Acked> acked() {
        return List.copyOf(acked);
    }

    public synchronized int ackedCount() {
        return acked.size();
    }

    public synchronized List<Rejected> rejected() {
        return List.copyOf(rejected);
    }

    public synchronized List<Command> unresolved() {
        return List.copyOf(unresolved);
    }

    public synchronized List<String> unexpected() {
        return List.copyOf(unexpected);
    }

    public synchronized List<Unsettled> unsettled() {
        return List.copyOf(unsettled);
    }

    /** How many acknowledgements {@code nodeUrl} gave that arrived after {@code afterNanos}. */
    public synchronized int ackedBy(String nodeUrl, long afterNanos) {
        int count = 0;
        for (Acked ack : acked) {
            if (ack.nodeUrl().equals(nodeUrl) && ack.receivedNanos() - afterNanos > 0) {
                count++;
            }
        }
        return count;
    }

    /**
     * The first acknowledgement that arrived after {@code afterNanos} from a node other than
     * {@code notUrl}, or null.
     */
    public synchronized Acked firstAckAfter(long afterNanos, String notUrl) {
        Acked first = null;
        for (int i = acked.size() - 1; i >= 0; i--) {
            Acked ack = acked.get(i);
            if (ack.receivedNanos() - afterNanos > 0 && !ack.nodeUrl().equals(notUrl)
                    && (first == null || ack.receivedNanos() - first.receivedNanos() < 0)) {
                first = ack;
            }
        }
        return first;
    }

    /**
     * The acknowledgement that arrived first of those that arrived after {@code afterNanos} with a
     * seq above {@code seq}, or null.
     */
    public synchronized Acked firstAckAbove(long seq, long afterNanos) {
        Acked first = null;
        for (Acked ack : acked) {
            if (ack.seq() > seq && ack.receivedNanos() - afterNanos > 0
                    && (first == null || ack.receivedNanos() - first.receivedNanos() < 0)) {
                first = ack;
            }
        }
        return first;
    }

    /** The highest seq acknowledged; 0 when none. */
    public synchronized long lastSeq() {
        return acked.stream().mapToLong(Acked::seq).max().orElse(0);
    }

    /** The balance of each account in {@code accounts} that the acknowledged commands imply. */
    public synchronized Map<String, Long> balances(List<String> accounts) {
        Map<String, Long> balances = new HashMap<>();
        for (String account : accounts) {
            balances.put(account, OPENING_BALANCE);
        }
        for (Acked ack : acked) {
            Command command = ack.command();
            balances.merge(command.from(), -command.amount(), Long::sum);
            if (command.kind() == Kind.TRANSFER) {
                balances.merge(command.to(), command.amount(), Long::sum);
            }
        }
        return balances;
    }

    /** The cents withdrawn by the acknowledged withdrawals. */
    public synchronized long withdrawn() {
        return acked.stream().filter(ack -> ack.command().kind() == Kind.WITHDRAWAL)
                .mapToLong(ack -> ack.command().amount()).sum();
    }
}
