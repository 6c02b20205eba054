package eventbank.bench.faults;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.server.Main;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The independent checker: compares what the server holds with the {@link Ledger}, after every
 * fault once every unanswered request has been retried with its key. It reads the journal and
 * the state through the command-line tools ({@code events}, {@code state}, {@code verify}, run
 * in this JVM, read-only as always), every read route through the HTTP API, compared with the
 * ledger and with the journal ({@link ReadRouteChecks}, {@link JournalReplay}), and the mails as
 * files in {@code data/outbox/}, or, with the SMTP transport, as the {@link MailSink} received
 * them. Each check made is counted; each failure is a sentence; a read route's answer that is not
 * the journal's is also counted as a {@linkplain #mismatches() mismatch}.
 */
final class Checker {
    private static final long MAIL_WAIT_SECONDS_MAX = 60;

    private final BankClient client;
    private final Requests requests;
    /** The run's SMTP server, or null for the file transport. */
    private final MailSink mails;
    /** A SIGKILL or an SMTP outage happened: a mail may have been sent twice (same Message-ID). */
    private boolean resendsPossible;
    private long mailsChecked;
    private long mailsTwice;
    private long checks;
    private long lost;
    private long mismatches;
    private final List<String> failures = new ArrayList<>();
    private final ReadRouteChecks routes;

    /** A checker without the operator's routes (no operator key) and with the file transport. */
    Checker(BankClient client, Requests requests) {
        this(client, requests, null, null);
    }

    /**
     * @param operatorKey the server's operator key, for its history and reports; null to leave them out
     * @param mails       the run's SMTP server, or null for the file transport
     */
    Checker(BankClient client, Requests requests, String operatorKey, MailSink mails) {
        this.client = client;
        this.requests = requests;
        this.mails = mails;
        this.routes = new ReadRouteChecks(client, operatorKey, this::compare);
    }

    /** From now on a mail may arrive twice: the server was killed, or the SMTP server went away. */
    void resendsPossible() {
        resendsPossible = true;
    }

    /** Mails found in the SMTP server by the latest round (each round checks every mail again). */
    long mailsChecked() {
        return mailsChecked;
    }

    /** Of those, mails the SMTP server received more than once (the extra copies). */
    long mailsTwice() {
        return mailsTwice;
    }

    /** Individual checks made so far. */
    long checks() {
        return checks;
    }

    /** Acknowledged operations found missing from the journal (must stay 0). */
    long lost() {
        return lost;
    }

    /** Answers of read routes that were not the journal's (must stay 0). */
    long mismatches() {
        return mismatches;
    }

    List<String> failures() {
        return List.copyOf(failures);
    }

    /** Synchronized, as {@link #compare} is: the read routes of the accounts are checked in parallel. */
    private synchronized void check(boolean holds, String failure) {
        checks++;
        if (!holds) {
            failures.add(failure);
        }
    }

    /** One read route's answer compared with the journal's: a mismatch is a failure naming both. */
    private synchronized void compare(String route, String account, Object served, Object journal) {
        checks++;
        if (!Objects.equals(served, journal)) {
            mismatches++;
            failures.add("MISMATCH: " + route + (account == null ? "" : " of account " + account) + " served " + served
                    + "; the journal says " + journal);
        }
    }

    /**
     * Where the server's record is: the arguments that point the command-line tools at its journal
     * ({@code --data-dir D}, or {@code --journal-url U} for a cluster), the directories its mails
     * are written to (one per node of a cluster: whichever led sent them), and the URLs of the
     * nodes besides the one the client talks to (none for one server), whose balances and health
     * are checked too.
     */
    record Place(List<String> journal, List<Path> outboxes, List<String> otherNodes) {
        static Place of(Path dataDirectory) {
            return new Place(List.of("--data-dir", dataDirectory.toString()), List.of(dataDirectory.resolve("outbox")),
                    List.of());
        }
    }

    /** Every check of one round on one server's data directory; answers the failures this round added. */
    List<String> checkAll(Ledger ledger, Path dataDirectory, boolean expectHealthy) throws Exception {
        return checkAll(ledger, Place.of(dataDirectory), expectHealthy);
    }

    /** Every check of one round; answers the failures this round added. */
    List<String> checkAll(Ledger ledger, Place place, boolean expectHealthy) throws Exception {
        int before = failures.size();
        for (String anomaly : ledger.anomalies()) {
            if (!failures.contains(anomaly)) {
                failures.add(anomaly);
            }
        }
        for (Operation operation : ledger.unresolved()) {
            check(false, "unresolved after the retries: " + operation);
        }
        List<JsonNode> events = events(place);
        long head = events.isEmpty() ? 0 : events.getLast().get("seq").asLong();
        checkJournal(ledger, events);
        Map<String, Long> balances = modelBalances(ledger);
        checkState(place, head, balances, ledger);
        checkVerify(place);
        // Mail before HTTP: a verification link is printed once its mail is out, and the HTTP
        // checks log in with accounts that may have been opened just before the fault.
        if (mails != null) {
            checkSmtpMail(ledger);
        } else {
            checkMail(ledger, place.outboxes());
        }
        checkHttp(ledger, place, events, balances);
        for (String node : place.otherNodes()) {
            checkBalancesOn(node, ledger, head, balances);
        }
        if (expectHealthy) {
            checkHealth(client.baseUrl());
            for (String node : place.otherNodes()) {
                checkHealth(node);
            }
        }
        return failures.subList(before, failures.size());
    }

    // ---- The journal ----

    private void checkJournal(Ledger ledger, List<JsonNode> events) {
        Map<String, JsonNode> byKey = new HashMap<>();
        for (JsonNode event : events) {
            String key = event.path("data").path("idempotency_key").asText(null);
            if (key != null) {
                check(byKey.put(key, event) == null, "key " + key + " is in the journal twice");
            }
        }
        for (Operation operation : ledger.operations()) {
            JsonNode event = byKey.get(operation.key);
            if (operation.state() == Operation.State.ACKNOWLEDGED) {
                checks++;
                if (event == null) {
                    lost++;
                    failures.add("LOST: " + operation + " is not in the journal");
                    continue;
                }
                check(event.get("seq").asLong() == operation.seq(), operation + " is in the journal as " + event);
                check(matches(operation, event), operation + " does not match its event " + event);
            } else {
                check(event == null, operation + " was not acknowledged, yet the journal holds " + event);
            }
        }
        for (String key : byKey.keySet()) {
            check(ledger.operation(key) != null, "the journal holds key " + key + ", which the harness never sent");
        }
    }

    private static boolean matches(Operation operation, JsonNode event) {
        JsonNode data = event.get("data");
        String type = event.get("type").asText();
        return switch (operation.kind) {
            case OPEN -> type.equals("AccountOpened")
                    && data.get("account_number").asText().equals(operation.account.number())
                    && data.get("email").asText().equals(operation.account.email)
                    && data.get("opening_balance").asLong() == Ledger.OPENING_BALANCE;
            case TRANSFER -> type.equals("MoneyTransferred")
                    && data.get("from_account_number").asText().equals(operation.account.number())
                    && data.get("to_account_number").asText().equals(operation.to.number())
                    && data.get("amount").asLong() == operation.amount;
            case WITHDRAW -> type.equals("MoneyWithdrawn")
                    && data.get("account_number").asText().equals(operation.account.number())
                    && data.get("amount").asLong() == operation.amount;
        };
    }

    // ---- The money, from the ledger alone ----

    /** Balances from the acknowledged operations in seq order; checks none ever goes negative. */
    private Map<String, Long> modelBalances(Ledger ledger) {
        List<Operation> acknowledged = new ArrayList<>();
        for (Operation operation : ledger.operations()) {
            if (operation.state() == Operation.State.ACKNOWLEDGED) {
                acknowledged.add(operation);
            }
        }
        acknowledged.sort(Comparator.comparingLong(Operation::seq));
        Map<String, Long> balances = new TreeMap<>();
        long opened = 0;
        long withdrawn = 0;
        for (Operation operation : acknowledged) {
            String number = operation.account.number();
            switch (operation.kind) {
                case OPEN -> {
                    balances.put(number, Ledger.OPENING_BALANCE);
                    opened += Ledger.OPENING_BALANCE;
                }
                case TRANSFER -> {
                    balances.merge(number, -operation.amount, Long::sum);
                    balances.merge(operation.to.number(), operation.amount, Long::sum);
                }
                case WITHDRAW -> {
                    balances.merge(number, -operation.amount, Long::sum);
                    withdrawn += operation.amount;
                }
            }
            check(balances.get(number) >= 0, "account " + number + " goes below zero at seq " + operation.seq());
        }
        long total = balances.values().stream().mapToLong(Long::longValue).sum();
        check(total == opened - withdrawn, "the acknowledged operations leave " + total + " cents, not opened "
                + opened + " - withdrawn " + withdrawn);
        return balances;
    }

    // ---- The server's state ----

    private void checkState(Place place, long head, Map<String, Long> balances, Ledger ledger)
            throws IOException {
        Tool state = Tool.run(arguments("state", place, "--at", Long.toString(head)));
        check(state.exitCode() == 0, "state --at " + head + " exited " + state.exitCode() + ": " + state.err());
        if (state.exitCode() != 0) {
            return;
        }
        JsonNode document = BankClient.JSON.readTree(state.out());
        Map<String, Long> served = new TreeMap<>();
        for (JsonNode account : document.get("accounts")) {
            long balance = account.get("balance").asLong();
            served.put(account.get("account_number").asText(), balance);
            check(balance >= 0, "state: account " + account + " is below zero");
        }
        check(served.equals(balances), "state --at " + head + " has balances " + served + "; the ledger says "
                + balances);
        JsonNode totals = document.get("totals");
        check(totals.get("balance").asLong() == totals.get("opened").asLong() - totals.get("withdrawn").asLong(),
                "state: total money " + totals + " is not opened - withdrawn");
        long withdrawn = 0;
        for (Operation operation : ledger.operations()) {
            if (operation.state() == Operation.State.ACKNOWLEDGED && operation.kind == Operation.Kind.WITHDRAW) {
                withdrawn += operation.amount;
            }
        }
        check(totals.get("withdrawn").asLong() == withdrawn, "state: withdrawn " + totals.get("withdrawn")
                + ", the ledger's acknowledged withdrawals add up to " + withdrawn);
    }

    /**
     * Every read route, for every account the harness knows and every acknowledged operation:
     * compared with the ledger (balance, statement) and with the journal ({@link ReadRouteChecks}).
     * An account whose link is followed only now adds its verification to the journal, which is
     * then read again.
     */
    private void checkHttp(Ledger ledger, Place place, List<JsonNode> events, Map<String, Long> balances)
            throws Exception {
        boolean verifiedNow = false;
        List<Account> usable = new ArrayList<>();
        for (Account account : ledger.accounts()) {
            boolean verified = account.verified();
            if (requests.makeUsable(account)) {
                usable.add(account);
            } else {
                check(false, "account " + account + " cannot be verified and logged in after the fault");
            }
            verifiedNow |= !verified && account.verified();
        }
        List<JsonNode> journalNow = verifiedNow ? events(place) : events;
        long head = journalNow.isEmpty() ? 0 : journalNow.getLast().get("seq").asLong();
        JournalReplay journal = JournalReplay.of(journalNow);
        Map<String, TreeSet<Long>> seqsByAccount = new HashMap<>();
        List<Operation> acknowledged = new ArrayList<>();
        for (Operation operation : ledger.operations()) {
            if (operation.state() == Operation.State.ACKNOWLEDGED) {
                acknowledged.add(operation);
            }
            if (operation.state() == Operation.State.ACKNOWLEDGED && operation.kind != Operation.Kind.OPEN) {
                seqsByAccount.computeIfAbsent(operation.account.number(), k -> new TreeSet<>()).add(operation.seq());
                if (operation.to != null) {
                    seqsByAccount.computeIfAbsent(operation.to.number(), k -> new TreeSet<>()).add(operation.seq());
                }
            }
        }
        List<Future<Void>> checked = new ArrayList<>();
        try (ExecutorService accounts = Executors.newFixedThreadPool(ReadRouteChecks.READ_THREADS)) {
            for (Account account : usable) {
                checked.add(accounts.submit(() -> {
                    checkRoutesOf(account, head, journal, balances.getOrDefault(account.number(), -1L),
                            seqsByAccount.getOrDefault(account.number(), new TreeSet<>()));
                    return null;
                }));
            }
        }
        for (Future<Void> done : checked) {
            ReadRouteChecks.await(done);
        }
        List<Operation> lookedUp = new ArrayList<>();
        for (Operation operation : acknowledged) {
            if (operation.account.token() != null) {
                lookedUp.add(operation); // else its holder could not log in, and that was said above
            }
        }
        routes.checkOperations(lookedUp, head, journal);
        routes.checkReports(head, journal);
    }

    /** The routes of one account: against the journal, and its balance and statement against the ledger too. */
    private void checkRoutesOf(Account account, long head, JournalReplay journal, long balance, Set<Long> seqs)
            throws Exception {
        JournalReplay.AccountState recorded = journal.account(account.number());
        routes.checkLogin(account);
        JsonNode shown = routes.checkAccount(account, head, recorded);
        check(shown != null && shown.path("balance").asLong() == balance, "GET /api/account of " + account
                + " answered " + shown + "; the ledger says balance " + balance);
        List<JsonNode> entries = routes.checkStatement(account, head, recorded);
        if (entries != null) {
            checkStatement(account, entries, balance, seqs);
        }
        routes.checkHistory(account, recorded);
    }

    /**
     * Every page of the statement (newest first, as served) against the ledger: its seqs, a
     * consistent running balance, the balance at the top.
     */
    private void checkStatement(Account account, List<JsonNode> entries, long balance, Set<Long> expectedSeqs) {
        Set<Long> seqs = new TreeSet<>();
        long running = Ledger.OPENING_BALANCE;
        boolean chained = true;
        for (JsonNode entry : entries.reversed()) {
            seqs.add(entry.get("seq").asLong());
            long amount = entry.get("amount").asLong();
            running += entry.get("type").asText().equals("transfer_in") ? amount : -amount;
            chained &= entry.get("balance_after").asLong() == running && running >= 0;
        }
        check(seqs.equals(expectedSeqs), "the statement of " + account + " lists seqs " + seqs + "; the ledger "
                + expectedSeqs);
        check(chained && running == balance, "the statement of " + account + " does not add up to its balance "
                + balance + " (ends at " + running + ")");
    }

    // ---- verify, mail, health ----

    private void checkVerify(Place place) {
        Tool verify = Tool.run(arguments("verify", place));
        check(verify.exitCode() == 0 && verify.out().contains("verify: OK"), "verify exited " + verify.exitCode()
                + ":\n" + verify.out() + verify.err());
    }

    /**
     * Every acknowledged opening has its verification mail and every acknowledged withdrawal its
     * notice, each with the Message-ID of its seq, kind and account; no mail tells of anything
     * else. The outbox works behind the journal, so its files are waited for (bounded). A mail
     * sent twice across a crash replaces its own file, with the same Message-ID.
     */
    private void checkMail(Ledger ledger, List<Path> outboxes) throws IOException, InterruptedException {
        Map<String, Operation> expected = new TreeMap<>();
        for (Operation operation : ledger.operations()) {
            if (operation.state() == Operation.State.ACKNOWLEDGED && operation.kind != Operation.Kind.TRANSFER) {
                String kind = operation.kind == Operation.Kind.OPEN ? "verification" : "withdrawal";
                expected.put(String.format("%020d-%s.eml", operation.seq(), kind), operation);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAIL_WAIT_SECONDS_MAX);
        Set<String> present = mailFiles(outboxes);
        while (!present.containsAll(expected.keySet()) && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(100); // polling the outbox directories, bounded by the deadline
            present = mailFiles(outboxes);
        }
        for (Map.Entry<String, Operation> mail : expected.entrySet()) {
            Operation operation = mail.getValue();
            if (!present.contains(mail.getKey())) {
                check(false, "no mail " + mail.getKey() + " for " + operation + " within " + MAIL_WAIT_SECONDS_MAX + " s");
                continue;
            }
            // In a cluster, a mail two leaders sent is in both outboxes: each copy must be this one.
            for (Path outbox : outboxes) {
                Path file = outbox.resolve(mail.getKey());
                if (Files.exists(file)) {
                    String text = Files.readString(file, StandardCharsets.UTF_8);
                    String kind = operation.kind == Operation.Kind.OPEN ? "verification" : "withdrawal";
                    String messageId = "Message-ID: <eventbank." + operation.seq() + "." + kind + "."
                            + operation.account.number() + "@";
                    check(text.contains(messageId) && text.contains(operation.account.email),
                            "mail " + file + " is not the " + kind + " mail of " + operation);
                }
            }
        }
        Set<String> unexpected = new TreeSet<>(present);
        unexpected.removeAll(expected.keySet());
        check(unexpected.isEmpty(), "mails for events that were not acknowledged: " + unexpected);
    }

    /**
     * The same for the SMTP transport, from what the SMTP server received (across its outages):
     * each acknowledged opening and withdrawal has a mail with the Message-ID of its seq, kind and
     * account, sent to its holder, waited for (bounded) since the outbox catches up once the server
     * is back; every mail received is one of these; a mail received twice only after a SIGKILL or an
     * SMTP outage (the outbox sends it again, with the same Message-ID).
     */
    private void checkSmtpMail(Ledger ledger) throws Exception {
        Map<String, Operation> expected = new TreeMap<>();
        for (Operation operation : ledger.operations()) {
            if (operation.state() == Operation.State.ACKNOWLEDGED && operation.kind != Operation.Kind.TRANSFER) {
                String kind = operation.kind == Operation.Kind.OPEN ? "verification" : "withdrawal";
                expected.put("eventbank." + operation.seq() + "." + kind + "." + operation.account.number(), operation);
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAIL_WAIT_SECONDS_MAX);
        Map<String, List<MailSink.Mail>> received = receivedById(mails.received());
        while (!received.keySet().containsAll(expected.keySet()) && System.nanoTime() < deadline) {
            TimeUnit.MILLISECONDS.sleep(100); // polling the SMTP server, bounded by the deadline
            received = receivedById(mails.received());
        }
        mailsChecked = 0;
        mailsTwice = 0;
        for (Map.Entry<String, Operation> mail : expected.entrySet()) {
            Operation operation = mail.getValue();
            List<MailSink.Mail> copies = received.get(mail.getKey());
            if (copies == null) {
                check(false, "no mail <" + mail.getKey() + "@...> for " + operation + " reached the SMTP server within "
                        + MAIL_WAIT_SECONDS_MAX + " s");
                continue;
            }
            mailsChecked++;
            mailsTwice += copies.size() - 1;
            for (MailSink.Mail copy : copies) {
                check(copy.to().equals(List.of(operation.account.email)), "mail " + copy + " is not to the holder of "
                        + operation);
            }
            check(copies.size() == 1 || resendsPossible, "mail " + mail.getKey() + " reached the SMTP server "
                    + copies.size() + " times with neither a SIGKILL nor an SMTP outage before");
        }
        Set<String> unexpected = new TreeSet<>(received.keySet());
        unexpected.removeAll(expected.keySet());
        check(unexpected.isEmpty(), "mails in the SMTP server for events that were not acknowledged: " + unexpected);
    }

    /** The mails by their Message-ID's local part ({@code eventbank.{seq}.{kind}.{account}}). */
    private static Map<String, List<MailSink.Mail>> receivedById(List<MailSink.Mail> mails) {
        Map<String, List<MailSink.Mail>> byId = new HashMap<>();
        for (MailSink.Mail mail : mails) {
            String id = String.valueOf(mail.messageId());
            int at = id.indexOf('@');
            String local = id.startsWith("<") && at > 0 ? id.substring(1, at) : id;
            byId.computeIfAbsent(local, k -> new ArrayList<>()).add(mail);
        }
        return byId;
    }

    private static Set<String> mailFiles(List<Path> outboxes) throws IOException {
        Set<String> names = new HashSet<>();
        for (Path outbox : outboxes) {
            if (Files.isDirectory(outbox)) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(outbox, "*.eml")) {
                    files.forEach(file -> names.add(file.getFileName().toString()));
                }
            }
        }
        return names;
    }

    /**
     * A node of a cluster other than the one the client talks to: every account's balance there,
     * once it has applied the head ({@code min_seq}), is the ledger's.
     */
    private void checkBalancesOn(String node, Ledger ledger, long head, Map<String, Long> balances) throws Exception {
        for (Account account : ledger.accounts()) {
            if (account.token() == null) {
                continue; // checkHttp could not log it in, and said so
            }
            long expected = balances.getOrDefault(account.number(), -1L);
            BankClient.Reply shown = client.getAt(node, "/api/account?min_seq=" + head, account.token());
            check(shown.status() == 200 && shown.body().path("balance").asLong() == expected,
                    "GET /api/account of " + account + " on " + node + " answered " + shown.status() + " "
                            + shown.body() + "; the ledger says balance " + expected);
        }
    }

    private void checkHealth(String node) throws Exception {
        BankClient.Reply health = client.getAt(node, "/health", null);
        String status = health.body().path("status").asText();
        boolean onlyLowDisk = true;
        for (JsonNode problem : health.body().path("problems")) {
            onlyLowDisk &= problem.asText().startsWith("free disk space");
        }
        check(health.status() == 200 && (status.equals("ok") || status.equals("degraded") && onlyLowDisk),
                "/health of " + node + " answered " + health.status() + " " + health.body());
    }

    private List<JsonNode> events(Place place) throws IOException {
        Tool tool = Tool.run(arguments("events", place));
        check(tool.exitCode() == 0, "events exited " + tool.exitCode() + ": " + tool.err());
        List<JsonNode> events = new ArrayList<>();
        long expectedSeq = 1;
        for (String line : tool.out().split("\n")) {
            if (!line.isBlank()) {
                JsonNode event = BankClient.JSON.readTree(line);
                check(event.get("seq").asLong() == expectedSeq, "events: seq " + event.get("seq") + " follows "
                        + (expectedSeq - 1));
                expectedSeq = event.get("seq").asLong() + 1;
                events.add(event);
            }
        }
        return events;
    }

    /** A tool's command line: its name, where the journal is, and {@code more}. */
    private static String[] arguments(String tool, Place place, String... more) {
        List<String> arguments = new ArrayList<>();
        arguments.add(tool);
        arguments.addAll(place.journal());
        arguments.addAll(List.of(more));
        return arguments.toArray(String[]::new);
    }

    /** One of the command-line tools, run in this JVM: what a user's {@code ./eventbank TOOL} runs. */
    record Tool(int exitCode, String out, String err) {
        static Tool run(String... arguments) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            PrintWriter outWriter = new PrintWriter(out);
            PrintWriter errWriter = new PrintWriter(err);
            int exitCode = Main.commandLine(Map.of()).setOut(outWriter).setErr(errWriter).execute(arguments);
            outWriter.flush();
            errWriter.flush();
            return new Tool(exitCode, out.toString(), err.toString());
        }
    }
}
