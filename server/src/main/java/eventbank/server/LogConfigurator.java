package eventbank.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.spi.ContextAwareBase;
import eventbank.server.log.BatchingConsoleAppender;
import eventbank.server.log.LineEncoder;

/**
 * How the server logs, set up in code: one line an event on standard error (standard output
 * belongs to the tools' results), INFO and up, Jetty's and Javalin's own from WARN. Found by
 * logback through {@code META-INF/services}; a {@code logback.xml} did the same, but parsing it
 * (an XML parser, logback's model of it and its rules) took about a tenth of a second of every
 * start, before anything else could log. {@code -Dlogback.configurationFile=FILE} still
 * configures logback from a file of an operator's own instead.
 *
 * <p>The lines go out a batch at a time ({@link BatchingConsoleAppender}): in order, none dropped,
 * a WARN or ERROR at once, everything at a stop; {@link BatchingConsoleAppender#flushAll} before a
 * process ends by a {@code halt}, which runs no shutdown hook.
 */
public final class LogConfigurator extends ContextAwareBase implements Configurator {

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(LineEncoder.PATTERN);
        encoder.start();
        BatchingConsoleAppender standardError = new BatchingConsoleAppender();
        standardError.setContext(context);
        standardError.setName("STDERR");
        LineEncoder lines = new LineEncoder(encoder);
        lines.setContext(context);
        lines.start();
        standardError.setEncoder(lines);
        standardError.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(standardError);
        context.getLogger("org.eclipse.jetty").setLevel(Level.WARN);
        context.getLogger("io.javalin").setLevel(Level.WARN);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }
}
