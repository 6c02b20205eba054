package eventbank.engine.write;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The journal thread wakes at most one thread per commit: a lone follower that must know of
 * every commit is woken by the committing thread itself, several by the notifier's thread, and
 * followers at their own pace are left their permit by the committing thread.
 */
class CommitNotifierTest {

    @Test
    void aLoneEagerFollowerAndThoseAtTheirPaceAreWokenByTheCommittingThread() throws Exception {
        try (CommitNotifier notifier = new CommitNotifier()) {
            CompletableFuture<Thread> eager = new CompletableFuture<>();
            CompletableFuture<Thread> paced = new CompletableFuture<>();
            notifier.add(() -> eager.complete(Thread.currentThread()), false);
            notifier.add(() -> paced.complete(Thread.currentThread()), true);

            notifier.committed(1);

            assertThat(eager.getNow(null)).isSameAs(Thread.currentThread());
            assertThat(paced.getNow(null)).isSameAs(Thread.currentThread());
        }
    }

    @Test
    void severalEagerFollowersAreWokenByTheNotifiersThreadEachCommit() throws Exception {
        try (CommitNotifier notifier = new CommitNotifier()) {
            CompletableFuture<Thread> first = new CompletableFuture<>();
            CompletableFuture<Thread> second = new CompletableFuture<>();
            notifier.add(() -> first.complete(Thread.currentThread()), false);
            notifier.add(() -> second.complete(Thread.currentThread()), false);

            notifier.committed(1);

            Thread wakingFirst = first.get(20, TimeUnit.SECONDS);
            assertThat(wakingFirst.getName()).isEqualTo("eventbank-commit-notifier");
            assertThat(second.get(20, TimeUnit.SECONDS)).isSameAs(wakingFirst);
        }
    }
}
