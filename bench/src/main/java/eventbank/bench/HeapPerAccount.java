package eventbank.bench;

import eventbank.core.Bank;
import eventbank.core.Event;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.ref.Reference;
import java.util.Locale;

/**
 * Heap bytes per account in the write model: opens N accounts in a {@link Bank} by evolving
 * AccountOpened events (then verifies them all), and compares the heap in use after full
 * collections before and after. Repeated, median reported.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.HeapPerAccount [accounts=1000000] [runs=5]
 * </pre>
 */
public final class HeapPerAccount {
    private static final MemoryMXBean MEMORY = ManagementFactory.getMemoryMXBean();

    private HeapPerAccount() {}

    public static void main(String[] args) throws InterruptedException {
        int accounts = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        System.out.printf(Locale.ROOT, "%s, %s, max heap %,d MB, %,d accounts, %d runs%n",
                System.getProperty("java.vm.name"), ManagementFactory.getRuntimeMXBean().getInputArguments(),
                Runtime.getRuntime().maxMemory() >> 20, accounts, runs);
        double[] opened = new double[runs];
        double[] verified = new double[runs];
        double[] openedRuntime = new double[runs];
        for (int run = 0; run < runs; run++) {
            Used before = usedAfterGc();
            Bank bank = new Bank();
            long seq = 0;
            for (int i = 0; i < accounts; i++) {
                seq++;
                bank.evolve(seq, Fixtures.EPOCH_MICROS + seq, Fixtures.opened(i));
            }
            Used afterOpening = usedAfterGc();
            for (int i = 0; i < accounts; i++) {
                seq++;
                bank.evolve(seq, Fixtures.EPOCH_MICROS + seq, new Event.AccountVerified(Fixtures.accountNumber(i)));
            }
            Used afterVerifying = usedAfterGc();
            if (bank.accountCount() != accounts) {
                throw new IllegalStateException("the bank holds " + bank.accountCount() + " accounts");
            }
            Reference.reachabilityFence(bank);
            opened[run] = (afterOpening.mxBean - before.mxBean) / (double) accounts;
            openedRuntime[run] = (afterOpening.runtime - before.runtime) / (double) accounts;
            verified[run] = (afterVerifying.mxBean - before.mxBean) / (double) accounts;
            System.out.printf(Locale.ROOT, "run %d: opened %.1f B/account (Runtime: %.1f), opened and verified %.1f B/account%n",
                    run + 1, opened[run], openedRuntime[run], verified[run]);
        }
        System.out.printf(Locale.ROOT, "median: %.1f bytes per account (opened), %.1f (opened and verified); target <= 200%n",
                Fixtures.median(opened), Fixtures.median(verified));
    }

    private record Used(long mxBean, long runtime) {}

    /** Heap in use after several full collections, by the memory bean and by Runtime. */
    private static Used usedAfterGc() throws InterruptedException {
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
        }
        Runtime runtime = Runtime.getRuntime();
        return new Used(MEMORY.getHeapMemoryUsage().getUsed(), runtime.totalMemory() - runtime.freeMemory());
    }
}
