package eventbank.server.cli;

import picocli.CommandLine.Option;

/** The {@code -h, --help} option every command takes. */
final class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Shows this help.")
    private boolean help;
}
