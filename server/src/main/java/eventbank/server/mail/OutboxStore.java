package eventbank.server.mail;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where the outbox keeps what must outlive it: its checkpoint (every mail up to this seq went
 * out) and its dead letters. {@link FileOutboxStore} keeps them in the data directory, for a
 * node with a journal of its own; {@link PostgresOutboxStore} in the journal's PostgreSQL
 * database, for a cluster, where whichever node leads sends the mail.
 *
 * <p><b>Fencing.</b> Every write names the epoch the outbox acts at (its node's {@code
 * Leadership.epoch()}), and changes nothing, answering false, when that epoch no longer holds
 * the outbox: another node took the journal over, or its outbox {@link #claim claimed} the
 * store at a later epoch. A write that answers false tells the outbox that its node was
 * deposed. Reads are not fenced: any node may read the checkpoint and list the dead letters.
 * In the file store one writer holds the data directory's lock, so every write holds.
 */
public interface OutboxStore {

    /**
     * The checkpoint: every mail up to this seq went out (0 when none did yet). Throws {@link
     * IllegalStateException} when it is past the journal's head: the mails of the events the
     * journal will number from there on would never be sent.
     */
    long checkpoint() throws IOException;

    /**
     * Makes {@code epoch} the one that writes, and answers the checkpoint as it stands once no
     * outbox of an earlier epoch can move it any more: the outbox of a node that just became the
     * leader sends every mail after it. Empty when {@code epoch} is not the journal's (this node
     * does not lead) or a later one claimed the store. Claiming again at the same epoch holds.
     */
    OptionalLong claim(long epoch) throws IOException;

    /** Makes {@code seq} the checkpoint, durably, if {@code epoch} holds the store (claimed, and still the journal's). */
    boolean writeCheckpoint(long seq, long epoch) throws IOException;

    /** Sets a mail aside, durably, if {@code epoch} is the journal's; again for the same seq replaces it. */
    boolean setAside(DeadLetter letter, long epoch) throws IOException;

    /** Up to {@code limit} dead letters with a seq above {@code afterSeq}, in seq order. */
    List<DeadLetter> deadLetters(long afterSeq, int limit) throws IOException;

    /** The dead letter of this seq, if one is set aside. */
    Optional<DeadLetter> deadLetter(long seq) throws IOException;

    /** Deletes the dead letter, durably (its mail went out), if {@code epoch} is the journal's. */
    boolean remove(DeadLetter letter, long epoch) throws IOException;

    /**
     * Deletes, durably, every dead letter to the holders of {@code accounts}, who were forgotten
     * (DESIGN.md, "Personal data"). Not fenced: any epoch may delete them. The file store's dead
     * letters are files, which the outbox deletes with the mail files ({@code Outbox.eraseMailsOf}).
     */
    default void eraseDeadLettersOf(List<Long> accounts) throws IOException {
    }

    /** Where the dead letter of this mail is kept, for log lines and errors. */
    String placeOf(long seq, OutgoingMail.Kind kind);
}
