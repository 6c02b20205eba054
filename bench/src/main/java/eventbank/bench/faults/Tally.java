package eventbank.bench.faults;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What a harness invocation did, over all its runs: the figures of docs/RELIABILITY.md. */
final class Tally {
    long seed;
    int runs;
    final Map<Fault, Integer> faults = new EnumMap<>(Fault.class);
    long restarts;
    long operations;
    long requests;
    long acknowledged;
    long rejected;
    long resolvedAfterFaults;
    long replaysChecked;
    long reads;
    long checkRounds;
    long checks;
    long lost;
    long mismatches;
    /** readmodel-kill faults the hook ended, and the files it halted in (by name in the data directory). */
    long readModelHalts;
    final Map<String, Integer> haltedIn = new TreeMap<>();
    long mailsChecked;
    long mailsTwice;
    long events;
    final Map<String, Long> answers = new TreeMap<>();
    final List<String> failures = new ArrayList<>();
    final List<String> skipped = new ArrayList<>();
    long millis;

    void fault(Fault fault) {
        faults.merge(fault, 1, Integer::sum);
    }

    int faults(Fault fault) {
        return faults.getOrDefault(fault, 0);
    }

    void add(Ledger ledger) {
        operations += ledger.operations().size();
        requests += ledger.requests.sum();
        acknowledged += ledger.count(Operation.State.ACKNOWLEDGED);
        rejected += ledger.count(Operation.State.REJECTED);
        reads += ledger.reads.sum();
        replaysChecked += ledger.replaysChecked.sum();
        ledger.answers().forEach((what, count) -> answers.merge(what, count, Long::sum));
    }

    /** The summary as a Markdown table, ready for docs/RELIABILITY.md. */
    String table(String command) {
        StringBuilder text = new StringBuilder();
        text.append("| | |\n| --- | --- |\n");
        row(text, "seed", Long.toString(seed));
        row(text, "runs (fresh data directory each)", Integer.toString(runs));
        for (Fault fault : Fault.values()) {
            row(text, "faults: " + fault.label(), Integer.toString(faults(fault)));
        }
        row(text, "server starts", Long.toString(restarts));
        row(text, "state-changing operations (each with its own key)", Long.toString(operations));
        row(text, "requests sent (retries included)", Long.toString(requests));
        row(text, "acknowledged", Long.toString(acknowledged));
        row(text, "refused by the rules (422)", Long.toString(rejected));
        row(text, "outcomes unknown at a fault, settled by a retry with the key", Long.toString(resolvedAfterFaults));
        row(text, "acknowledged keys sent again after a restart (must replay)", Long.toString(replaysChecked));
        row(text, "reads", Long.toString(reads));
        row(text, "highest acknowledged seq, summed over the runs", Long.toString(events));
        row(text, "check rounds (one after every fault)", Long.toString(checkRounds));
        row(text, "invariant checks made", Long.toString(checks));
        row(text, "mails checked in the SMTP server (runs with smtp-down; each again after every later fault)",
                Long.toString(mailsChecked));
        row(text, "of those, received again (after a SIGKILL or an SMTP outage, same Message-ID)",
                Long.toString(mailsTwice));
        row(text, "readmodel-kill: halted by the hook (the rest SIGKILLed after the load) / files halted in",
                readModelHalts + " / " + haltedIn);
        row(text, "**read-route answers that were not the journal's (mismatches)**", "**" + mismatches + "**");
        row(text, "**acknowledged operations lost**", "**" + lost + "**");
        row(text, "failures", Integer.toString(failures.size()));
        row(text, "time", String.format("%.0f s", millis / 1000.0));
        row(text, "replies", answers.toString());
        text.append("\nreproduce: `").append(command).append("`\n");
        return text.toString();
    }

    private static void row(StringBuilder text, String name, String value) {
        text.append("| ").append(name).append(" | ").append(value).append(" |\n");
    }
}
