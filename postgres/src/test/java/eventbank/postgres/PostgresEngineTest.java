package eventbank.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import eventbank.engine.write.Sequencer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine unchanged on the journal in PostgreSQL: it commits, stops, and starts again with
 * the same state and head, from a snapshot and the rows after it or from the rows alone.
 */
class PostgresEngineTest {
    private static final byte[] SERVER_KEY = "a server key of thirty-two bytes".getBytes();
    private static final int ACCOUNTS = 8;
    private static final int TRANSFERS = 600;

    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    @TempDir
    Path data;

    /** The balance each account must have, as the commands committed say. */
    private final Map<Long, Long> balances = new LinkedHashMap<>();

    @Test
    void anEngineOnThePostgresJournalRestartsWithTheSameStateAndHead() throws Exception {
        AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
        EngineConfig config = EngineConfig.builder(data).serverKey(SERVER_KEY).accountNumbers(numbers::incrementAndGet)
                .snapshots(100, 2, 1_000).journal(PostgresJournal.opener(postgres.config("node-a"))).build();
        Sequencer.Head head;
        try (Engine engine = Engine.start(config)) {
            for (int index = 0; index < ACCOUNTS; index++) {
                openAndVerify(engine, "holder" + index + "@example.com");
            }
            transferPipelined(engine, new SplittableRandom(11));
            head = engine.committedHead();
            assertThat(engine.subscriptions().get(0).awaitDelivered(head.seq(), 30_000)).isTrue();
        }
        assertThat(head.seq()).isEqualTo(2L * ACCOUNTS + TRANSFERS);
        assertThat(headRow()).isEqualTo(head.seq() + " " + head.hashHex());

        try (Engine engine = Engine.start(config)) {
            assertThat(engine.startSnapshotSeq()).as("started from a snapshot").isPositive();
            assertThat(engine.committedHead().hashHex()).isEqualTo(head.hashHex());
            assertThat(engine.committedSeq()).isEqualTo(head.seq());
            checkBalances(engine);
            head = engine.committedHead();
        }
        assertThat(headRow()).isEqualTo(head.seq() + " " + head.hashHex());

        // Without snapshots, the start replays every row.
        EngineConfig withoutSnapshots = config.toBuilder().snapshots(0, 1, 1).build();
        try (Stream<Path> snapshots = Files.list(config.snapshotDirectory())) {
            for (Path snapshot : snapshots.toList()) {
                Files.delete(snapshot);
            }
        }
        try (Engine engine = Engine.start(withoutSnapshots)) {
            assertThat(engine.startSnapshotSeq()).isZero();
            assertThat(engine.committedHead().hashHex()).isEqualTo(head.hashHex());
            checkBalances(engine);
        }
    }

    private void openAndVerify(Engine engine, String email) {
        Outcome.Committed opened = committed(engine.submit(new Command.OpenAccount(0, email, "hash",
                Limits.OPENING_BALANCE_DEFAULT, null)).join());
        long account = ((Event.AccountOpened) opened.events().get(0).event()).accountNumber();
        String code = engine.verificationCodes().codeFor(account, opened.seq());
        committed(engine.submit(new Command.VerifyAccount(account, code)).join());
        balances.put(account, Limits.OPENING_BALANCE_DEFAULT);
    }

    /** Many transfers in flight at once, so that the journal commits them in batches of several. */
    private void transferPipelined(Engine engine, SplittableRandom random) {
        List<Long> accounts = new ArrayList<>(balances.keySet());
        List<CompletableFuture<Outcome>> replies = new ArrayList<>();
        for (int index = 0; index < TRANSFERS; index++) {
            long from = accounts.get(random.nextInt(ACCOUNTS));
            long to = accounts.get((accounts.indexOf(from) + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS);
            long amount = 1 + random.nextInt(100);
            replies.add(engine.submit(new Command.TransferMoney(from, to, amount, null)));
            balances.merge(from, -amount, Long::sum);
            balances.merge(to, amount, Long::sum);
        }
        for (CompletableFuture<Outcome> reply : replies) {
            committed(reply.join());
        }
    }

    /** Withdraws a cent from each account: the balance the engine reports after it shows the one it had. */
    private void checkBalances(Engine engine) {
        for (Map.Entry<Long, Long> account : balances.entrySet()) {
            Command withdraw = new Command.Withdraw(account.getKey(), 1, null);
            Outcome.Committed withdrawn = committed(engine.submit(withdraw).join());
            assertThat(withdrawn.balance()).as("account %d", account.getKey()).isEqualTo(account.getValue() - 1);
            account.setValue(account.getValue() - 1);
        }
    }

    private static Outcome.Committed committed(Outcome outcome) {
        assertThat(outcome).isInstanceOf(Outcome.Committed.class);
        return (Outcome.Committed) outcome;
    }

    private String headRow() throws Exception {
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement();
             ResultSet head = statement.executeQuery("SELECT last_seq, chain_hash FROM eventbank_head")) {
            head.next();
            return head.getLong(1) + " " + HexFormat.of().formatHex(head.getBytes(2));
        }
    }
}
