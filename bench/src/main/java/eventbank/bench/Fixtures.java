package eventbank.bench;

import eventbank.core.Bank;
import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Limits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** What the benchmarks share: account numbers, events, command streams and temporary directories. */
final class Fixtures {
    /** 2026-01-01T00:00:00Z in microseconds: every benchmark's clock starts here. */
    static final long EPOCH_MICROS = 1_767_225_600_000_000L;
    /** A bcrypt-shaped hash (60 characters), so that AccountOpened records have their real size. */
    static final String PASSWORD_HASH = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    static final byte[] SERVER_KEY = "eventbank-benchmark-server-key-0123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    /** Benchmarks write their data under here (the brief: real files in /tmp). */
    static final Path TEMP_ROOT = Path.of(System.getProperty("eventbank.bench.tmp", "/tmp"));

    private Fixtures() {}

    /** The number of the index-th account: 16 digits, sequential (the table hashes them anyway). */
    static long accountNumber(int index) {
        return Limits.ACCOUNT_NUMBER_MIN + 1 + index;
    }

    static String email(int index) {
        return "user" + index + "@example.com";
    }

    static Event.AccountOpened opened(int index) {
        return new Event.AccountOpened(accountNumber(index), email(index), PASSWORD_HASH,
                Limits.OPENING_BALANCE_DEFAULT, null);
    }

    /** A bank holding {@code accounts} verified accounts, evolved from 2 × accounts events. */
    static Bank verifiedBank(int accounts) {
        Bank bank = new Bank();
        long seq = 0;
        for (int i = 0; i < accounts; i++) {
            seq++;
            bank.evolve(seq, EPOCH_MICROS + seq, opened(i));
        }
        for (int i = 0; i < accounts; i++) {
            seq++;
            bank.evolve(seq, EPOCH_MICROS + seq, new Event.AccountVerified(accountNumber(i)));
        }
        return bank;
    }

    /**
     * Random transfers between distinct accounts among the first {@code accounts}, amounts from
     * 1 to {@code amountMax} cents, without idempotency keys. The second half of the array undoes
     * the first (same pairs and amounts, reversed), so cycling through it any number of times
     * never drains an account, and no two neighbours touch the same accounts on purpose.
     */
    static Command.TransferMoney[] transfers(int count, int accounts, int amountMax, long seed) {
        if (count % 2 != 0) {
            throw new IllegalArgumentException("an even number of transfers, please");
        }
        SplittableRandom random = new SplittableRandom(seed);
        Command.TransferMoney[] commands = new Command.TransferMoney[count];
        int half = count / 2;
        for (int i = 0; i < half; i++) {
            int from = random.nextInt(accounts);
            int to = random.nextInt(accounts - 1);
            if (to >= from) {
                to++;
            }
            long amount = 1 + random.nextInt(amountMax);
            commands[i] = new Command.TransferMoney(accountNumber(from), accountNumber(to), amount, null);
            commands[half + i] = new Command.TransferMoney(accountNumber(to), accountNumber(from), amount, null);
        }
        return commands;
    }

    static Path tempDirectory(String prefix) throws IOException {
        Files.createDirectories(TEMP_ROOT);
        return Files.createTempDirectory(TEMP_ROOT, prefix);
    }

    static void deleteRecursively(Path root) throws IOException {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    /** The bytes of all regular files under {@code root}. */
    static long bytesUnder(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            return paths.filter(Files::isRegularFile).mapToLong(path -> {
                try {
                    return Files.size(path);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }

    static long median(long[] values) {
        long[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    }
}
