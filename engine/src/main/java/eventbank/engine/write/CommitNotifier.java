package eventbank.engine.write;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * Wakes every follower of the log (the subscriptions) after a commit. Waking a parked thread is
 * a system call, made on the journal thread between an fsync and the next, where every waiting
 * request pays for it: with five subscribers it took 13% of the server's samples under HTTP load.
 * So the journal thread wakes one thread per commit, never more:
 * <ul>
 *   <li>one follower that must know of every commit (a read model): that follower itself;</li>
 *   <li>several: this notifier's own thread, which wakes them, one wake-up later;</li>
 *   <li>followers that read at their own pace ({@code Subscriber.catchUpPause}) are only left a
 *       permit, which costs no system call while they sleep between their reads.</li>
 * </ul>
 *
 * <p>No commit goes unnoticed: the journal thread publishes the committed seq before it calls
 * {@link #committed}, and an unpark that comes while a thread is busy leaves a permit, so it
 * goes round once more.
 */
public final class CommitNotifier implements AutoCloseable {
    /** What wakes each follower that must know of every commit: an unpark of its thread, no more. */
    private final List<Runnable> eager = new CopyOnWriteArrayList<>();
    /** What leaves a permit to each follower that reads at its own pace. */
    private final List<Runnable> atTheirPace = new CopyOnWriteArrayList<>();
    private final Thread thread = new Thread(this::run, "eventbank-commit-notifier");
    private volatile boolean running = true;

    public CommitNotifier() {
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Runs {@code wakeUp} after every commit from now on; {@code atItsPace} for a follower that
     * sleeps between its reads, whose wake-up then only leaves it a permit.
     */
    public void add(Runnable wakeUp, boolean atItsPace) {
        (atItsPace ? atTheirPace : eager).add(wakeUp);
    }

    /** Called by the journal thread after each durable batch. */
    public void committed(long seq) {
        for (Runnable wakeUp : atTheirPace) {
            wakeUp.run();
        }
        if (eager.size() == 1) {
            eager.get(0).run();
        } else if (!eager.isEmpty()) {
            LockSupport.unpark(thread);
        }
    }

    private void run() {
        while (running) {
            LockSupport.park(this);
            if (eager.size() > 1) {
                for (Runnable wakeUp : eager) {
                    wakeUp.run();
                }
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        LockSupport.unpark(thread);
        thread.join();
    }
}
