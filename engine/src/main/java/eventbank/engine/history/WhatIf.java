package eventbank.engine.history;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Decider;
import eventbank.core.Decision;
import eventbank.core.Event;
import eventbank.core.Recorded;
import eventbank.core.Rejection;
import eventbank.core.VerificationCodes;
import eventbank.engine.ServerKey;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.FileJournalSource;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.journal.JournalSource;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * An alternative history: the real one with some past events left out and some hypothetical
 * commands added at chosen points, decided again event by event to see what would now be
 * rejected and how every balance would differ. Read-only like {@link TimeTravel}, which it is
 * built on: it starts from the state as of the first point that changes (the nearest snapshot
 * plus replay), keeps two private copies of the bank from there (the real history, evolved as
 * recorded, and the alternative, decided again), and never touches a running engine's state,
 * writes nothing and mails nothing. It works beside a running server.
 *
 * <p>Each later event is turned back into the command that made it and decided again with the
 * bank's own {@link Decider} against the alternative bank, at the event's own time:
 * <ul>
 *   <li>A verification is accepted when the account exists: its code was checked when it really
 *       happened, and the alternative history has the same accounts or fewer.</li>
 *   <li>Idempotency keys are left out, so that a retry's key never turns a decision into a
 *       replay; each event is decided for what it does.</li>
 *   <li>The transfers of one all-or-none batch are decided one by one: the journal does not
 *       record which events formed a batch command.</li>
 * </ul>
 * A hypothetical command placed after seq N is decided after event N (after N's own decision),
 * at N's time; several after the same N in the order given. Accounts a hypothetical open adds
 * are compared with the real history like any other (their real balance is absent).
 *
 * <p>Costs: loading the state at the branch point as {@link TimeTravel#travel} does, then
 * decide + evolve of every event from the branch point to {@code untilSeq}, which must be at
 * most {@code replayEventsMax} events; and two copies of the write model in memory.
 */
public final class WhatIf {
    /** The most excluded seqs, and the most hypothetical commands, of one request. */
    public static final int EXCLUDED_SEQS_MAX = 1_000;
    public static final int COMMANDS_MAX = 1_000;
    /** The password hash a hypothetical account opening records: it never logs in. */
    public static final String HYPOTHETICAL_PASSWORD_HASH = "what-if";

    /** A command to try after the event at {@code afterSeq} (0: before the first event). */
    public record Hypothetical(long afterSeq, Command command) {}

    /**
     * What to change: events to leave out, commands to add, and the seq to replay to (null:
     * the end of the journal as it is now, or the caller's head).
     */
    public record Request(Set<Long> excludedSeqs, List<Hypothetical> commands, Long untilSeq) {
        public Request {
            excludedSeqs = Set.copyOf(excludedSeqs);
            commands = List.copyOf(commands);
        }
    }

    /** A real event that the alternative history would reject, and why. */
    public record RejectedEvent(long seq, Event event, Rejection reason) {
        public String type() {
            return EventCodec.typeName(event);
        }
    }

    /** What a hypothetical command came to: accepted (reason null) or rejected. */
    public record CommandOutcome(int index, Hypothetical hypothetical, Rejection reason) {
        public boolean accepted() {
            return reason == null;
        }
    }

    /** An account whose balance differs at {@code untilSeq}; null for an account that does not exist on that side. */
    public record BalanceDifference(long accountNumber, Long balance, Long whatIfBalance) {
        /** The alternative balance minus the real one, an absent account counting as 0. */
        public long difference() {
            return (whatIfBalance == null ? 0 : whatIfBalance) - (balance == null ? 0 : balance);
        }
    }

    /** The answer: the branch point, how far it replayed, and what differs. */
    public record Result(long branchSeq, long untilSeq, long eventsReplayed, List<Long> excludedSeqs,
                         List<RejectedEvent> rejected, List<CommandOutcome> commands,
                         List<BalanceDifference> differences) {}

    /** A request this instance refuses: a seq out of range, or more events than the cap. */
    public static final class InvalidRequestException extends IllegalArgumentException {
        public InvalidRequestException(String message) {
            super(message);
        }
    }

    /** Every verification is taken as right: see the class comment. */
    private static final VerificationCodes ANY_CODE = new VerificationCodes() {
        @Override
        public String codeFor(long accountNumber, long openedSeq) {
            return "";
        }

        @Override
        public boolean matches(long accountNumber, long openedSeq, String code) {
            return true;
        }
    };

    private final JournalSource journal;
    private final TimeTravel timeTravel;
    private final long replayEventsMax;
    private final PersonalKeys keys;
    private final Decider decider = new Decider(ANY_CODE);

    /** Over a data directory: its journal's segments and its snapshots. */
    public WhatIf(Storage storage, Path dataDirectory, long idempotencyWindowMicros, long replayEventsMax)
            throws IOException {
        this(new FileJournalSource(storage, dataDirectory.resolve("journal")),
                ServerKey.snapshotsIn(storage, dataDirectory), idempotencyWindowMicros, replayEventsMax);
    }

    /** Over any journal, with the snapshots of {@code snapshots}, as {@link TimeTravel} uses them. */
    public WhatIf(JournalSource journal, SnapshotStore snapshots, long idempotencyWindowMicros, long replayEventsMax) {
        this(journal, snapshots, idempotencyWindowMicros, replayEventsMax, null);
    }

    /** With the key store to open sealed openings with (null: their personal fields read as null). */
    public WhatIf(JournalSource journal, SnapshotStore snapshots, long idempotencyWindowMicros, long replayEventsMax,
                  PersonalKeys keys) {
        if (replayEventsMax < 1) {
            throw new IllegalArgumentException("replayEventsMax must be at least 1, not " + replayEventsMax);
        }
        this.journal = journal;
        this.timeTravel = new TimeTravel(journal, snapshots, idempotencyWindowMicros, keys);
        this.keys = keys;
        this.replayEventsMax = replayEventsMax;
    }

    public long replayEventsMax() {
        return replayEventsMax;
    }

    /**
     * Runs the alternative history up to {@code request.untilSeq()}, or up to {@code headSeq}
     * when that is null (a running server passes its committed seq; the command line passes
     * the seq the journal ends at).
     *
     * @throws InvalidRequestException          when a seq lies past {@code headSeq} or the replay
     *                                          would exceed the cap
     * @throws TimeTravel.BeyondTheEndException when the journal ends before {@code untilSeq}
     */
    public Result run(Request request, long headSeq) throws IOException {
        long until = request.untilSeq() != null ? request.untilSeq() : headSeq;
        if (until < 0 || until > headSeq) {
            throw new InvalidRequestException("until_seq " + until + " is past the last recorded event, seq " + headSeq);
        }
        long branch = until;
        for (long excluded : request.excludedSeqs()) {
            if (excluded < 1 || excluded > until) {
                throw new InvalidRequestException("exclude_seqs holds " + excluded + ", which is not from 1 to "
                        + "until_seq " + until);
            }
            branch = Math.min(branch, excluded - 1);
        }
        for (Hypothetical hypothetical : request.commands()) {
            if (hypothetical.afterSeq() < 0 || hypothetical.afterSeq() > until) {
                throw new InvalidRequestException("after_seq " + hypothetical.afterSeq() + " is not from 0 to "
                        + "until_seq " + until);
            }
            branch = Math.min(branch, hypothetical.afterSeq());
        }
        if (until - branch > replayEventsMax) {
            throw new InvalidRequestException("this what-if would replay " + (until - branch) + " events (from seq "
                    + branch + " to " + until + "), more than the limit of " + replayEventsMax
                    + " (whatif.replay_events_max); move until_seq closer to the first change");
        }
        Bank real = timeTravel.stateAt(branch);
        return new Run(request, branch, until, real).replay();
    }

    /** One run's state: the two banks and what was found so far. */
    private final class Run {
        private final Request request;
        private final long branch;
        private final long until;
        private final Bank real;
        private final Bank alternative;
        private final Map<Long, List<Integer>> commandsAfter = new HashMap<>();
        private final List<RejectedEvent> rejected = new ArrayList<>();
        private final CommandOutcome[] outcomes;

        Run(Request request, long branch, long until, Bank real) {
            this.request = request;
            this.branch = branch;
            this.until = until;
            this.real = real;
            this.alternative = real.copy();
            this.outcomes = new CommandOutcome[request.commands().size()];
            for (int index = 0; index < request.commands().size(); index++) {
                commandsAfter.computeIfAbsent(request.commands().get(index).afterSeq(), seq -> new ArrayList<>())
                        .add(index);
            }
        }

        Result replay() throws IOException {
            runCommandsAfter(branch);
            if (until > branch) {
                try (Journal.Reader reader = journal.newReader(false)) {
                    reader.seek(branch);
                    JournalReader.Batch batch;
                    while (real.lastSeq() < until && (batch = reader.next(until)) != null) {
                        batch.forEach(keys, recorded -> {
                            if (recorded.seq() > real.lastSeq() && recorded.seq() <= until) {
                                step(recorded);
                            }
                        });
                    }
                }
                if (real.lastSeq() < until) {
                    throw new TimeTravel.BeyondTheEndException(until, real.lastSeq());
                }
            }
            return new Result(branch, until, until - branch, new ArrayList<>(new TreeSet<>(request.excludedSeqs())),
                    List.copyOf(rejected), List.of(outcomes), differences());
        }

        private void step(Recorded recorded) {
            real.evolve(recorded);
            if (!request.excludedSeqs().contains(recorded.seq())) {
                Decision decision = decider.decide(alternative, commandOf(recorded.event()), recorded.timeMicros());
                switch (decision) {
                    // An opening accepted again is the real one, personal fields as the log has them
                    // (sealed, or forgotten), not the command's stand-in.
                    case Decision.Accepted accepted when recorded.event() instanceof Event.AccountOpened ->
                            apply(new Decision.Accepted(List.of(recorded.event())), recorded.timeMicros());
                    case Decision.Accepted accepted -> apply(accepted, recorded.timeMicros());
                    case Decision.Rejected refusal -> rejected.add(new RejectedEvent(recorded.seq(), recorded.event(),
                            refusal.reason()));
                    case Decision.Replayed replayed -> throw new AssertionError("no idempotency key was given");
                    case Decision.OneByOne oneByOne -> throw new AssertionError("an event is decided again as a single command");
                }
            }
            runCommandsAfter(recorded.seq());
        }

        private void runCommandsAfter(long seq) {
            for (int index : commandsAfter.getOrDefault(seq, List.of())) {
                Hypothetical hypothetical = request.commands().get(index);
                long time = alternative.lastTimeMicros();
                Decision decision = decider.decide(alternative, hypothetical.command(), time);
                Rejection reason = switch (decision) {
                    case Decision.Accepted accepted -> {
                        apply(accepted, time);
                        yield null;
                    }
                    case Decision.Rejected refusal -> refusal.reason();
                    case Decision.Replayed replayed -> throw new AssertionError("no idempotency key was given");
                    // Not sent by the what-if route, which takes all-or-none batches; as if it were,
                    // the parts accepted are recorded and the batch counts as accepted.
                    case Decision.OneByOne oneByOne -> {
                        for (Decision part : oneByOne.parts()) {
                            if (part instanceof Decision.Accepted accepted) {
                                apply(accepted, time);
                            }
                        }
                        yield null;
                    }
                };
                outcomes[index] = new CommandOutcome(index, hypothetical, reason);
            }
        }

        /** The alternative numbers its own events on from its branch point; only its balances are compared. */
        private void apply(Decision.Accepted accepted, long timeMicros) {
            for (Event event : accepted.events()) {
                alternative.evolve(alternative.lastSeq() + 1, Math.max(timeMicros, alternative.lastTimeMicros()), event);
            }
        }

        /** Every account whose balance differs, in the order the real bank opened them, then the alternative's new ones. */
        private List<BalanceDifference> differences() {
            List<BalanceDifference> differences = new ArrayList<>();
            forEachAccount(real, (number, balance) -> {
                Long whatIf = alternative.exists(number) ? alternative.balanceOf(number) : null;
                if (whatIf == null || whatIf != balance) {
                    differences.add(new BalanceDifference(number, balance, whatIf));
                }
            });
            forEachAccount(alternative, (number, balance) -> {
                if (!real.exists(number)) {
                    differences.add(new BalanceDifference(number, null, balance));
                }
            });
            return differences;
        }
    }

    /**
     * The command that made an event, without its idempotency key. An opening whose email reads
     * as null (its holder forgotten, or its fields sealed and the key store not at hand) is asked
     * for with a stand-in address of the account's own, so that the alternative opens it too.
     */
    static Command commandOf(Event event) {
        return switch (event) {
            case Event.AccountOpened e when e.email() == null -> new Command.OpenAccount(e.accountNumber(),
                    "forgotten-" + e.accountNumber() + "@forgotten.invalid", "forgotten", e.openingBalance(), null);
            case Event.AccountOpened e -> new Command.OpenAccount(e.accountNumber(), e.email(), e.passwordHash(),
                    e.openingBalance(), null);
            case Event.AccountVerified e -> new Command.VerifyAccount(e.accountNumber(), "");
            case Event.MoneyTransferred e -> new Command.TransferMoney(e.fromAccountNumber(), e.toAccountNumber(),
                    e.amount(), null);
            case Event.MoneyWithdrawn e -> new Command.Withdraw(e.accountNumber(), e.amount(), null);
            case Event.AccountClosed e -> new Command.CloseAccount(e.accountNumber());
            case Event.AccountForgotten e -> new Command.ForgetAccount(e.accountNumber());
        };
    }

    private interface AccountVisitor {
        void visit(long number, long balance);
    }

    private static void forEachAccount(Bank bank, AccountVisitor visitor) {
        bank.exportTo(new Bank.Exporter() {
            @Override
            public void counters(long seq, long time, long opened, long withdrawn, long forfeited, int count,
                                 int keys) {}

            @Override
            public void account(long number, long balance, int flags, long openedSeq, long high, long low) {
                visitor.visit(number, balance);
            }

            @Override
            public void idempotency(long scope, String key, String fingerprint, long seq, long time) {}
        });
    }
}
