package eventbank.engine.cluster;

/**
 * Whether this node leads, for the parts that must act only on the leader (the mail outbox):
 * asked before each action, never cached. A node with the file journal always leads, at epoch 0.
 */
public interface Leadership {
    /** The leadership of a node with a journal of its own, in files: always leading, epoch 0. */
    Leadership ALONE = new Leadership() {
        @Override
        public boolean leading() {
            return true;
        }

        @Override
        public long epoch() {
            return 0;
        }
    };

    /**
     * Whether this node leads now and its lease, by its own monotonic clock, has not run out:
     * false as soon as it may have been deposed, before any other node can take over.
     */
    boolean leading();

    /** The epoch this node leads at, or last led at; 0 when it never led. */
    long epoch();
}
