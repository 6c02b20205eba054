package eventbank.testkit.cluster;

import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.postgres.PostgresSharedJournal;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The journal in PostgreSQL read whole, as a node reads it (each batch's checksums, the seqs
 * following on, and the hash chain from the first batch to the last), and held up against what
 * the clients were told ({@link Ledger}).
 */
public final class JournalAudit {
    /** An event that carries an Idempotency-Key, where the journal holds it. */
    public record Keyed(long seq, Event event) {}

    private final Map<String, List<Keyed>> byKey = new HashMap<>();
    private final Map<Long, Long> balances = new HashMap<>();
    private long lastSeq;
    private byte[] headHash;
    private long withdrawn;
    /** The mail each event that gets one must have caused, as its outbox file's name ends: seq to kind. */
    private final Map<Long, String> mails = new java.util.TreeMap<>();

    private JournalAudit() {}

    /** The last seq of the journal's batches at {@code journalUrl} (0 when empty), without reading them. */
    public static long lastSeqAt(String journalUrl) throws SQLException {
        try (Connection connection = DriverManager.getConnection(journalUrl);
             Statement statement = connection.createStatement();
             ResultSet last = statement.executeQuery("SELECT coalesce(max(last_seq), 0) FROM eventbank_batches")) {
            last.next();
            return last.getLong(1);
        }
    }

    /**
     * Reads every batch of the journal at {@code journalUrl}; a damaged batch or a broken chain is
     * a {@link eventbank.engine.journal.JournalCorruptException}.
     */
    public static JournalAudit read(String journalUrl) throws IOException {
        JournalAudit audit = new JournalAudit();
        PostgresJournalConfig config = PostgresJournalConfig.of(journalUrl, null, null, "journal-audit");
        try (PostgresSharedJournal shared = new PostgresSharedJournal(config, false);
             Journal.Reader reader = shared.newReader()) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                batch.forEach(audit::add);
                audit.headHash = batch.header().chainHash();
            }
        }
        return audit;
    }

    private void add(Recorded recorded) {
        if (recorded.seq() != lastSeq + 1) {
            throw new IllegalStateException("the journal goes from seq " + lastSeq + " to " + recorded.seq());
        }
        lastSeq = recorded.seq();
        switch (recorded.event()) {
            case Event.AccountOpened opened -> {
                balances.put(opened.accountNumber(), opened.openingBalance());
                mails.put(recorded.seq(), "verification");
            }
            case Event.MoneyTransferred transfer -> {
                balances.merge(transfer.fromAccountNumber(), -transfer.amount(), Long::sum);
                balances.merge(transfer.toAccountNumber(), transfer.amount(), Long::sum);
            }
            case Event.MoneyWithdrawn withdrawal -> {
                balances.merge(withdrawal.accountNumber(), -withdrawal.amount(), Long::sum);
                withdrawn += withdrawal.amount();
                mails.put(recorded.seq(), "withdrawal");
            }
            case Event.AccountClosed closed -> balances.merge(closed.accountNumber(), -closed.forfeited(), Long::sum);
            default -> {
                // no money moves
            }
        }
        var idempotency = Event.idempotencyOf(recorded.event());
        if (idempotency != null) {
            byKey.computeIfAbsent(idempotency.key(), key -> new ArrayList<>(1))
                    .add(new Keyed(recorded.seq(), recorded.event()));
        }
    }

    public long lastSeq() {
        return lastSeq;
    }

    /** The chain hash after the last batch, in hex as {@code GET /api/admin/audit/head} shows it. */
    public String headHashHex() {
        return headHash == null ? null : HexFormat.of().formatHex(headHash);
    }

    /** The balance of an account as the journal's events make it, or null for an account it does not hold. */
    public Long balance(String accountNumber) {
        return balances.get(Long.parseLong(accountNumber));
    }

    /** Every event that gets a mail (an opening, a withdrawal): its seq and the mail's kind. */
    public Map<Long, String> mails() {
        return java.util.Collections.unmodifiableMap(mails);
    }

    /** The cents withdrawn, over the whole journal. */
    public long withdrawn() {
        return withdrawn;
    }

    /** Where the journal holds the events of this key (none, one, or, wrongly, more). */
    public List<Keyed> withKey(String key) {
        return byKey.getOrDefault(key, List.of());
    }

    /**
     * What the journal and the ledger disagree on: an acknowledged command missing, recorded more
     * than once, at another seq than acknowledged or with other values; a rejected one recorded;
     * a money command of the run ({@code keyPrefix}) recorded that no client was told of. Empty
     * when they agree.
     */
    public List<String> disagreements(Ledger ledger, String keyPrefix) {
        List<String> problems = new ArrayList<>();
        Map<String, Ledger.Command> told = new HashMap<>();
        for (Ledger.Acked ack : ledger.acked()) {
            told.put(ack.command().key(), ack.command());
            List<Keyed> recorded = withKey(ack.command().key());
            if (recorded.size() != 1) {
                problems.add(ack + " is in the journal " + recorded.size() + " times: " + recorded);
            } else if (recorded.getFirst().seq() != ack.seq() || !matches(ack.command(), recorded.getFirst().event())) {
                problems.add(ack + " is in the journal as " + recorded.getFirst());
            }
        }
        for (Ledger.Rejected rejection : ledger.rejected()) {
            told.put(rejection.command().key(), rejection.command());
            if (!withKey(rejection.command().key()).isEmpty()) {
                problems.add(rejection + " is in the journal: " + withKey(rejection.command().key()));
            }
        }
        byKey.forEach((key, recorded) -> {
            if (key.startsWith(keyPrefix) && !told.containsKey(key) && !(recorded.getFirst().event()
                    instanceof Event.AccountOpened)) {
                problems.add("the journal holds " + recorded + " under key " + key + ", which no client was told of");
            }
        });
        return problems;
    }

    private static boolean matches(Ledger.Command command, Event event) {
        long from = Long.parseLong(command.from());
        return switch (event) {
            case Event.MoneyTransferred transfer -> command.kind() == Ledger.Kind.TRANSFER
                    && transfer.fromAccountNumber() == from
                    && transfer.toAccountNumber() == Long.parseLong(command.to())
                    && transfer.amount() == command.amount();
            case Event.MoneyWithdrawn withdrawal -> command.kind() == Ledger.Kind.WITHDRAWAL
                    && withdrawal.accountNumber() == from && withdrawal.amount() == command.amount();
            default -> false;
        };
    }
}
