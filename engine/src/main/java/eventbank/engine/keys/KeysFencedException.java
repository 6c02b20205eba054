package eventbank.engine.keys;

import java.io.IOException;

/**
 * A cluster's key store refused a leader's writes: the journal's head is at another writer epoch
 * (another node took it over), or the store's header is another (a rotation since). Nothing was
 * written, so the batch whose openings these keys were for must not be appended: its commands
 * are answered as not recorded.
 */
public final class KeysFencedException extends IOException {
    public KeysFencedException(String message) {
        super(message);
    }
}
