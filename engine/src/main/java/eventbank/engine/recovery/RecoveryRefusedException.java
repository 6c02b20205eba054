package eventbank.engine.recovery;

/**
 * The start refuses: the journal's end is not one the engine may go on from without dropping
 * an acknowledged event (see {@link DurableEvidence}). Nothing was cut or written; the message
 * names the evidence, for an operator to look at.
 */
public final class RecoveryRefusedException extends RuntimeException {
    public RecoveryRefusedException(String message) {
        super(message);
    }
}
