package eventbank.server.log;

import ch.qos.logback.classic.pattern.TargetLengthBasedClassNameAbbreviator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.encoder.EncoderBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The log's line of {@link #PATTERN} made by hand, to the very bytes logback's
 * pattern layout makes (a test holds the two alike): the pattern layout walked a chain of
 * converters, padders and a date cache for each request log line, 3.6% of a request's CPU. A
 * line with an exception goes to the pattern layout, which appends the stack trace.
 */
public final class LineEncoder extends EncoderBase<ILoggingEvent> {
    /** A line: time (UTC, milliseconds), level, thread, logger (abbreviated), message. */
    public static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSX,UTC} %-5level [%thread] %logger{20} - %msg%n";
    /** The date of {@link #PATTERN}, as logback's date converter formats it. */
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSX")
            .withZone(ZoneId.of("UTC"));
    /** {@code %logger{20}}. */
    private static final int LOGGER_LENGTH = 20;
    /** {@code %-5level}. */
    private static final int LEVEL_WIDTH = 5;

    private final LayoutWrappingEncoder<ILoggingEvent> pattern;
    private final TargetLengthBasedClassNameAbbreviator abbreviator =
            new TargetLengthBasedClassNameAbbreviator(LOGGER_LENGTH);
    /** Each logger's abbreviated name; loggers are few and long-lived. */
    private final ConcurrentHashMap<String, String> abbreviated = new ConcurrentHashMap<>();
    /** The last millisecond formatted and its text; lines come many to a millisecond under load. */
    private volatile FormattedDate lastDate = new FormattedDate(Long.MIN_VALUE, "");

    private record FormattedDate(long millis, String text) {}

    /** @param pattern the encoder of {@link #PATTERN}, for lines with an exception */
    public LineEncoder(LayoutWrappingEncoder<ILoggingEvent> pattern) {
        this.pattern = pattern;
    }

    @Override
    public byte[] headerBytes() {
        return pattern.headerBytes();
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        if (event.getThrowableProxy() != null) {
            return pattern.encode(event);
        }
        String level = event.getLevel().toString();
        String message = event.getFormattedMessage();
        StringBuilder line = new StringBuilder(80 + message.length());
        line.append(date(event.getTimeStamp())).append(' ').append(level);
        for (int pad = level.length(); pad < LEVEL_WIDTH; pad++) {
            line.append(' ');
        }
        line.append(" [").append(event.getThreadName()).append("] ")
                .append(abbreviated.computeIfAbsent(event.getLoggerName(), abbreviator::abbreviate))
                .append(" - ").append(message).append(CoreConstants.LINE_SEPARATOR);
        // As the pattern's encoder without a charset: the platform's.
        return line.toString().getBytes();
    }

    @Override
    public byte[] footerBytes() {
        return pattern.footerBytes();
    }

    private String date(long millis) {
        FormattedDate last = lastDate;
        if (last.millis() != millis) {
            last = new FormattedDate(millis, DATE.format(Instant.ofEpochMilli(millis)));
            lastDate = last;
        }
        return last.text();
    }
}
