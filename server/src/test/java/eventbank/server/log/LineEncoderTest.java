package eventbank.server.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.LoggingEvent;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The log line made by hand is, byte for byte, the line logback's pattern layout makes. */
class LineEncoderTest {
    @Test
    void everyLineIsThePatternLayoutsLine() {
        LoggerContext context = new LoggerContext();
        PatternLayoutEncoder pattern = new PatternLayoutEncoder();
        pattern.setContext(context);
        pattern.setPattern(LineEncoder.PATTERN);
        pattern.start();
        LineEncoder byHand = new LineEncoder(pattern);
        byHand.setContext(context);
        byHand.start();

        List<String> loggers = List.of("eventbank.http", "eventbank.server.http.BankServer", "x", "",
                "org.eclipse.jetty.server.handler.ContextHandler", "eventbank.engine.Engine",
                "a.very.long.package.name.with.many.parts.AndAClassNameLongerThanTwentyCharacters", "Root.", "..a");
        List<String> threads = List.of("main", "", "JettyServerThreadPool-Virtual-12", "eventbank-journal",
                "thread with spaces [and brackets]", "é漢");
        List<String> messages = List.of("POST /api/money_transfer 200 seq=42 1.3ms", "", "two\nlines",
                "unicode é ü 漢字 \u2028", "{} stays", "%d %n %msg");
        Level[] levels = {Level.TRACE, Level.DEBUG, Level.INFO, Level.WARN, Level.ERROR};
        SplittableRandom random = new SplittableRandom(11);
        long time = 1_796_000_000_000L;
        for (int round = 0; round < 20_000; round++) {
            time += random.nextInt(3) == 0 ? random.nextLong(0, 100_000_000_000L) : random.nextInt(2);
            LoggingEvent event = new LoggingEvent("fqcn",
                    context.getLogger(loggers.get(random.nextInt(loggers.size()))),
                    levels[random.nextInt(levels.length)], messages.get(random.nextInt(messages.size())), null,
                    random.nextBoolean() ? null : new Object[] {"arg"});
            event.setThreadName(threads.get(random.nextInt(threads.size())));
            event.setTimeStamp(time);
            assertThat(new String(byHand.encode(event))).isEqualTo(new String(pattern.encode(event)));
        }

        LoggingEvent failed = new LoggingEvent("fqcn", context.getLogger("eventbank.engine.Engine"), Level.ERROR,
                "the journal failed", new java.io.IOException("No space left on device"), null);
        assertThat(new String(byHand.encode(failed))).isEqualTo(new String(pattern.encode(failed)))
                .contains("java.io.IOException: No space left on device");
    }
}
