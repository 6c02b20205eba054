package eventbank.postgres;

import java.time.Duration;
import java.util.Objects;

/**
 * Where the journal's database is and who this writer is.
 *
 * @param url                  a pgjdbc URL, {@code jdbc:postgresql://host[:port][,host2...]/database}
 * @param user                 the database user, or null to leave it to the URL
 * @param password             its password, or null
 * @param nodeName             this node's name: the writer session's {@code application_name}, by
 *                             which a new writer finds this one's sessions to end them
 * @param nodeUrl              how other nodes and clients reach this node, recorded in the head; may be null
 * @param lease                how long the head says this writer leads after each batch or takeover;
 *                             a writer's session ends itself when idle in a transaction for half of it
 * @param takeoverLockTimeout  how long a takeover waits for the head's lock before it ends the
 *                             sessions of the leader the head names, and tries once more
 * @param resolveTimeout       how long a writer whose commit's outcome is unknown tries to read its
 *                             batches back before it gives them up as unknown ({@code
 *                             journal.resolve_timeout})
 * @param readsFromStandby     a reader node's: its reading sessions go where the URL leads, a hot
 *                             standby included; else every session asks for the primary
 *                             ({@code targetServerType=primary})
 */
public record PostgresJournalConfig(String url, String user, String password, String nodeName, String nodeUrl,
                                    Duration lease, Duration takeoverLockTimeout, Duration resolveTimeout,
                                    boolean readsFromStandby) {

    public static final Duration LEASE_DEFAULT = Duration.ofSeconds(2);
    public static final Duration TAKEOVER_LOCK_TIMEOUT_DEFAULT = Duration.ofSeconds(1);
    public static final Duration RESOLVE_TIMEOUT_DEFAULT = Duration.ofSeconds(30);

    public PostgresJournalConfig {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(nodeName, "nodeName");
        if (lease.toMillis() < 2 || takeoverLockTimeout.toMillis() < 1 || resolveTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("the lease, the takeover's lock timeout and the resolve timeout"
                    + " must be positive");
        }
    }

    /** A writer's, that resolves unknown commit outcomes for {@link #RESOLVE_TIMEOUT_DEFAULT}. */
    public PostgresJournalConfig(String url, String user, String password, String nodeName, String nodeUrl,
                                 Duration lease, Duration takeoverLockTimeout) {
        this(url, user, password, nodeName, nodeUrl, lease, takeoverLockTimeout, RESOLVE_TIMEOUT_DEFAULT, false);
    }

    /** A writer named {@code nodeName} with the default lease and takeover lock timeout. */
    public static PostgresJournalConfig of(String url, String user, String password, String nodeName) {
        return new PostgresJournalConfig(url, user, password, nodeName, null, LEASE_DEFAULT,
                TAKEOVER_LOCK_TIMEOUT_DEFAULT);
    }

    /** The URL as messages show it: without its query, where a password may be given. */
    public String shownUrl() {
        int query = url.indexOf('?');
        return query < 0 ? url : url.substring(0, query);
    }

    /** This configuration with another lease and takeover lock timeout. */
    public PostgresJournalConfig withLease(Duration newLease, Duration newTakeoverLockTimeout) {
        return new PostgresJournalConfig(url, user, password, nodeName, nodeUrl, newLease, newTakeoverLockTimeout,
                resolveTimeout, readsFromStandby);
    }

    /** This configuration with another resolve timeout. */
    public PostgresJournalConfig withResolveTimeout(Duration newResolveTimeout) {
        return new PostgresJournalConfig(url, user, password, nodeName, nodeUrl, lease, takeoverLockTimeout,
                newResolveTimeout, readsFromStandby);
    }

    /** This configuration for a reader node, whose reading sessions may be on a hot standby. */
    public PostgresJournalConfig readingFromStandby() {
        return new PostgresJournalConfig(url, user, password, nodeName, nodeUrl, lease, takeoverLockTimeout,
                resolveTimeout, true);
    }
}
