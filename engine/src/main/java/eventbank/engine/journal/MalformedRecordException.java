package eventbank.engine.journal;

/** A record inside a batch whose checksum is right does not parse: a bug, or a newer format. */
public final class MalformedRecordException extends RuntimeException {
    public MalformedRecordException(String message) {
        super(message);
    }
}
