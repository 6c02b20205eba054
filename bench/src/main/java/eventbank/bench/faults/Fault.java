package eventbank.bench.faults;

/**
 * The faults the harness injects. A run whose faults include {@code SMTP_DOWN} sends its mail to
 * a GreenMail server of its own ({@code mail.transport=smtp}, see {@link MailSink}). The cluster
 * faults have runs of their own ({@link ClusterFaultRun}): eventbank nodes on a Patroni-managed
 * PostgreSQL pair.
 */
public enum Fault {
    /** SIGKILL at a random moment under load, then a restart. */
    SIGKILL("sigkill"),
    /** SIGTERM under load (a clean stop: exit 0), then a restart. */
    SIGTERM("sigterm"),
    /** A restart with the test-only hook failing the N-th fsync of the journal; fail-stop; a restart without it. */
    JOURNAL_FSYNC("journal-fsync"),
    /** The same with the N-th write of the journal failing half-way. */
    JOURNAL_WRITE("journal-write"),
    /** SIGKILL, the newest snapshot file damaged while the server is down, then a restart. */
    SNAPSHOT("snapshot"),
    /**
     * A restart with the test-only hook halting the process (a SIGKILL at that instant) half-way
     * through the N-th write to a read model's file or an outbox checkpoint (or, one time in two,
     * to a checkpoint only); a restart without it.
     */
    READMODEL_KILL("readmodel-kill"),
    /** The data directory's file system (a loop-mounted ext4 image) filled up; fail-stop; space back; restart. */
    DISK_FULL("disk-full"),
    /** The SMTP server (GreenMail) stopped under load for a while, then started again on its port. */
    SMTP_DOWN("smtp-down"),
    /** Cluster runs: SIGKILL of the eventbank node that leads, under load; a standby takes over; the node restarts. */
    LEADER_KILL("leader-kill"),
    /** Cluster runs: SIGKILL of the PostgreSQL primary's postmaster and children; Patroni fails over. */
    PRIMARY_KILL("primary-kill");

    private final String label;

    Fault(String label) {
        this.label = label;
    }

    /** Whether it is played on a cluster ({@link ClusterFaultRun}) rather than on one server. */
    boolean cluster() {
        return this == LEADER_KILL || this == PRIMARY_KILL;
    }

    String label() {
        return label;
    }

    static Fault of(String label) {
        for (Fault fault : values()) {
            if (fault.label.equals(label)) {
                return fault;
            }
        }
        throw new IllegalArgumentException("unknown fault " + label + "; known: sigkill, sigterm, journal-fsync, "
                + "journal-write, snapshot, readmodel-kill, disk-full, smtp-down, leader-kill, primary-kill");
    }
}
