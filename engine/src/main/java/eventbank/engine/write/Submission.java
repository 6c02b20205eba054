package eventbank.engine.write;

import eventbank.core.Command;
import java.util.concurrent.CompletableFuture;

/** A command on the sequencer's queue and the reply its caller waits on. */
record Submission(Command command, CompletableFuture<Outcome> reply) {
    /** Put on the queue by {@link Sequencer#close}: the commands before it are the last. */
    static final Submission STOP = new Submission(null, null);
}
