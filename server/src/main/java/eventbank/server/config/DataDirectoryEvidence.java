package eventbank.server.config;

import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.storage.Storage;
import eventbank.server.mail.Outbox;
import eventbank.server.readmodel.ReadModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Every place where the server's subscribers leave durable proof of a committed seq, besides
 * the engine's own (its high-water mark and snapshots). The one list that both {@code serve}
 * (through {@code Config.engineConfig()}) and {@code verify} judge the journal's end with, so
 * that the server and its checker never disagree.
 */
public final class DataDirectoryEvidence {
    private DataDirectoryEvidence() {}

    public static List<DurableEvidence.Source> sources(Storage storage, Path dataDirectory) {
        List<DurableEvidence.Source> sources = new ArrayList<>(Outbox.evidence(storage, dataDirectory));
        sources.addAll(ReadModels.evidence(storage, dataDirectory));
        return List.copyOf(sources);
    }
}
