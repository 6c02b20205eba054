package eventbank.server.cli;

/** The command line's exit codes (DESIGN.md, "Command line"), the same for every subcommand. */
public final class ExitCodes {
    /** Done, and every check passed. */
    public static final int OK = 0;
    /** A check failed or corruption was found. */
    public static final int CHECK_FAILED = 1;
    /** The command line itself is wrong: an unknown option, a bad value, a missing subcommand. */
    public static final int USAGE = 2;
    /** The data directory is missing, unreadable or locked; or the journal's database cannot be reached. */
    public static final int DATA_DIRECTORY = 3;

    private ExitCodes() {}
}
