package eventbank.core;

/**
 * What a single writer must know of the bank's commands besides deciding them: what to stamp on
 * a command before {@code decide} sees it, how much room its events may take in the log, and
 * whose balance the reply to it reports. The engine's sequencer knows the bank's commands only
 * through this (and the {@link Decider}), as the LMAX Disruptor's processors know their events
 * only through their handlers; {@link BankCommandPolicy} is the bank's.
 *
 * <p>The writer calls every method on its own thread, for every command it takes.
 */
public interface CommandPolicy {

    /**
     * The command as {@code decide} must see it: with what {@code decide} must not compute itself
     * (it reads no random source) stamped on it, chosen against {@code bank} as it is now.
     */
    Command stamp(Command command, Bank bank);

    /**
     * The most bytes the command's events may take as the log's records. All of them go into one
     * commit batch, so the writer keeps that much room for the command.
     */
    int recordBytesMax(Command command);

    /**
     * The refusal of a command whose events may take more room than the writer has for one
     * command (only with a writer set smaller than the bank's limits assume).
     */
    Rejection tooLarge(Command command);

    /** The account whose balance the reply to the command, once accepted, reports. */
    long subjectOf(Command command);
}
