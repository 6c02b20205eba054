package eventbank.server.config;

import java.time.Duration;

/**
 * The limits that keep one client from taking the server's connections, and with them the file
 * descriptors that the journal, the snapshots and the outbox need (finding 4 of
 * docs/RELIABILITY.md).
 *
 * @param connectionsMax {@code http.connections_max}: beyond this many open connections the server
 *                       stops accepting new ones (they wait in the kernel's queue, holding no file
 *                       descriptor of the server) until some close
 * @param idleTimeout    {@code http.idle_timeout}: a connection with nothing to read or write for
 *                       this long is closed
 * @param headerTimeout  {@code http.header_timeout}: a connection whose request has begun but whose
 *                       headers are not complete this long after is closed, however slowly its
 *                       bytes keep coming
 */
public record HttpLimits(int connectionsMax, Duration idleTimeout, Duration headerTimeout) {

    /** The defaults of the three keys, for an HTTP stack run without a configuration (the bench's). */
    public static HttpLimits defaults() {
        return new HttpLimits(
                (int) Values.wholeNumber(ConfigKey.HTTP_CONNECTIONS_MAX.defaultText().orElseThrow(),
                        ConfigParser.CONNECTIONS_MAX_MIN, ConfigParser.CONNECTIONS_MAX_MAX, "a number of connections"),
                Values.duration(ConfigKey.HTTP_IDLE_TIMEOUT.defaultText().orElseThrow(),
                        ConfigParser.IDLE_TIMEOUT_MIN, ConfigParser.IDLE_TIMEOUT_MAX),
                Values.duration(ConfigKey.HTTP_HEADER_TIMEOUT.defaultText().orElseThrow(),
                        ConfigParser.HEADER_TIMEOUT_MIN, ConfigParser.HEADER_TIMEOUT_MAX));
    }
}
