package eventbank.server.readmodel;

import java.util.List;

/**
 * One page of a statement, newest entry first.
 *
 * @param entries       at most the limit asked for
 * @param nextBeforeSeq the {@code before_seq} that asks for the next (older) page: the seq of
 *                      the oldest entry here; null when there is nothing older
 */
public record StatementPage(List<StatementEntry> entries, Long nextBeforeSeq) {
    public StatementPage {
        entries = List.copyOf(entries);
    }

    static final StatementPage EMPTY = new StatementPage(List.of(), null);
}
