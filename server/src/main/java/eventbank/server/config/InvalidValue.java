package eventbank.server.config;

/**
 * A value does not parse or is out of range. The message is the end of a sentence whose start
 * names the key, the value and its source: "is not a port number 1-65535". Internal to the
 * configuration: {@link ConfigParser} turns it into a problem of a {@link ConfigException}.
 */
final class InvalidValue extends RuntimeException {
    InvalidValue(String reason) {
        super(reason, null, false, false);
    }
}
