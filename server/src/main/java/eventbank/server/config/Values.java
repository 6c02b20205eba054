package eventbank.server.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The parsers of configuration values, one per type. Each takes the text (never blank, already
 * stripped) and returns the typed value or throws {@link InvalidValue} with the end of a sentence
 * that says what was expected. None of them reads a file, resolves a name or reads a clock.
 */
final class Values {
    static final long KIB = 1L << 10;
    static final long MIB = 1L << 20;
    static final long GIB = 1L << 30;

    /** Digits, optionally grouped with underscores as in Java: {@code 1_000_000}. */
    private static final Pattern WHOLE_NUMBER = Pattern.compile("[0-9]+(?:_[0-9]+)*");
    private static final Pattern SIZE = Pattern.compile("([0-9]+(?:_[0-9]+)*)\\s*([A-Za-z]*)");
    private static final Pattern HOST_LABEL = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?");
    private static final Pattern IPV4 = Pattern.compile(
            "(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(?:%[A-Za-z0-9_.-]+)?");
    /** A dot-atom local part (RFC 5322), the only kind a sender address needs. */
    private static final String ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
    private static final Pattern LOCAL_PART = Pattern.compile(ATOM + "(?:\\." + ATOM + ")*");
    private static final Pattern NAMED_MAILBOX = Pattern.compile("(.*?)\\s*<([^<>]*)>");
    private static final int HOST_LENGTH_MAX = 253;
    private static final int EMAIL_LENGTH_MAX = eventbank.core.Limits.EMAIL_LENGTH_MAX;

    private Values() {}

    /** A whole number from {@code min} to {@code max}; {@code what} names it: "a port number 1-65535". */
    static long wholeNumber(String text, long min, long max, String what) {
        if (!WHOLE_NUMBER.matcher(text).matches()) {
            throw new InvalidValue("is not " + what);
        }
        long value;
        try {
            value = Long.parseLong(text.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new InvalidValue("is not " + what);
        }
        if (value < min || value > max) {
            throw new InvalidValue("is not " + what);
        }
        return value;
    }

    static int port(String text) {
        return (int) wholeNumber(text, 1, 65_535, "a port number 1-65535");
    }

    /**
     * A duration: an ISO-8601 duration ({@code PT15M}, {@code P1D}, {@code PT1H30M}; letters in
     * either case) or a whole number of seconds ({@code 900}). Whole seconds only, from
     * {@code min} to {@code max}.
     */
    static Duration duration(String text, Duration min, Duration max) {
        Duration duration = anyDuration(text, min, max);
        if (duration.getNano() != 0) {
            throw new InvalidValue("is not a whole number of seconds");
        }
        return checkedRange(duration, min, max);
    }

    /** As {@link #duration}, in whole milliseconds: {@code PT0.1S}, {@code PT2S}. */
    static Duration durationMillis(String text, Duration min, Duration max) {
        Duration duration = anyDuration(text, min, max);
        if (duration.getNano() % 1_000_000 != 0) {
            throw new InvalidValue("is not a whole number of milliseconds");
        }
        return checkedRange(duration, min, max);
    }

    private static Duration anyDuration(String text, Duration min, Duration max) {
        if (WHOLE_NUMBER.matcher(text).matches()) {
            return Duration.ofSeconds(wholeNumber(text, 0, Long.MAX_VALUE / 1_000_000_000L,
                    "a duration from " + human(min) + " to " + human(max)));
        }
        try {
            return Duration.parse(text.toUpperCase(Locale.ROOT));
        } catch (DateTimeParseException e) {
            throw new InvalidValue("is not a duration: give an ISO-8601 duration such as PT15M, PT24H or P1D, "
                    + "or a whole number of seconds such as 900");
        }
    }

    private static Duration checkedRange(Duration duration, Duration min, Duration max) {
        if (duration.compareTo(min) < 0 || duration.compareTo(max) > 0) {
            throw new InvalidValue("is not a duration from " + human(min) + " to " + human(max));
        }
        return duration;
    }

    /**
     * A size in bytes: a whole number of bytes, or one with a binary unit ({@code KiB}, {@code MiB},
     * {@code GiB}, in any case, with or without a space): {@code 1048576}, {@code 1MiB},
     * {@code 256 MiB}. Decimal units (MB) are refused rather than guessed.
     */
    static long bytes(String text, long min, long max) {
        Matcher matcher = SIZE.matcher(text);
        if (!matcher.matches()) {
            throw new InvalidValue("is not a size: give a whole number of bytes, or one with a unit KiB, MiB or GiB "
                    + "such as 256MiB");
        }
        long unit = switch (matcher.group(2).toLowerCase(Locale.ROOT)) {
            case "", "b" -> 1;
            case "kib" -> KIB;
            case "mib" -> MIB;
            case "gib" -> GIB;
            default -> throw new InvalidValue("has an unknown unit '" + matcher.group(2)
                    + "': the units are KiB, MiB and GiB (1024, 1024² and 1024³ bytes)");
        };
        String range = "a size from " + human(min) + " to " + human(max);
        long count = wholeNumber(matcher.group(1), 0, Long.MAX_VALUE, range);
        long value;
        try {
            value = Math.multiplyExact(count, unit);
        } catch (ArithmeticException e) {
            throw new InvalidValue("is not " + range);
        }
        if (value < min || value > max) {
            throw new InvalidValue("is not " + range);
        }
        return value;
    }

    /**
     * A host name (RFC 1123: labels of letters, digits and hyphens) or an IP address; an IPv6
     * address may be given in brackets, which are taken off. Nothing is looked up.
     */
    static String host(String text) {
        String host = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
        if (IPV4.matcher(host).matches()) {
            return host;
        }
        if (host.contains(":")) {
            if (IPV6.matcher(host).matches() && host.chars().filter(c -> c == ':').count() >= 2) {
                return host;
            }
            throw new InvalidValue("is not a host name or IP address (give a host such as localhost, an address "
                    + "such as 127.0.0.1 or ::1, with no scheme or port)");
        }
        if (!isHostName(host)) {
            throw new InvalidValue("is not a host name or IP address (give a host such as localhost, an address "
                    + "such as 127.0.0.1 or ::1, with no scheme or port)");
        }
        return host;
    }

    /** RFC 1123 host name; an all-numeric name that is not an IPv4 address is refused. */
    static boolean isHostName(String host) {
        if (host.isEmpty() || host.length() > HOST_LENGTH_MAX || host.endsWith(".")) {
            return false;
        }
        String[] labels = host.split("\\.", -1);
        boolean allNumeric = true;
        for (String label : labels) {
            if (!HOST_LABEL.matcher(label).matches()) {
                return false;
            }
            allNumeric &= label.chars().allMatch(c -> c >= '0' && c <= '9');
        }
        return !allNumeric;
    }

    /** Whether a host is this machine, so that nothing sent to it crosses a network. */
    static boolean isLoopback(String host) {
        return host.equalsIgnoreCase("localhost") || host.startsWith("127.") && IPV4.matcher(host).matches()
                || host.equals("::1");
    }

    /** One of an enum's constants by its lower-case name, in any case: {@code smtp}, {@code SMTP}. */
    static <E extends Enum<E>> E choice(String text, Class<E> type) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(text)) {
                return constant;
            }
        }
        throw new InvalidValue("is not one of " + Arrays.stream(type.getEnumConstants())
                .map(Values::name).collect(Collectors.joining(", ")));
    }

    /** How an enum constant is written in the configuration: lower case. */
    static String name(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT);
    }

    /** A path, made absolute against the working directory and normalized. */
    static Path path(String text, Path workingDirectory) {
        try {
            return workingDirectory.resolve(text).toAbsolutePath().normalize();
        } catch (InvalidPathException e) {
            throw new InvalidValue("is not a path: " + e.getReason());
        }
    }

    /**
     * The server's address as the world sees it, which links in mails are built on: http or
     * https, a host, optionally a port and a path prefix (behind a reverse proxy), no user, query
     * or fragment. Returned without a trailing slash.
     */
    static URI publicUrl(String text) {
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new InvalidValue("is not a URL (" + e.getReason() + " at index " + e.getIndex() + ")");
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!"http".equals(scheme) && !"https".equals(scheme) || uri.isOpaque()) {
            throw new InvalidValue("is not an http:// or https:// URL");
        }
        if (uri.getHost() == null) {
            throw new InvalidValue("has no host name that a mail client could follow");
        }
        if (uri.getRawUserInfo() != null) {
            throw new InvalidValue("holds a user name, which links must not carry");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new InvalidValue("has a query or a fragment; give only the base that links are built on, "
                    + "such as https://bank.example or https://example.com/bank");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
        return URI.create(scheme + "://" + uri.getRawAuthority() + path);
    }

    /**
     * A sender for the From header: {@code name <address>} or a bare {@code address}, on one line
     * (a line break would let a value add headers). Returns the address.
     */
    static String mailboxAddress(String text) {
        if (text.chars().anyMatch(Character::isISOControl)) {
            throw new InvalidValue("contains a line break or another control character");
        }
        Matcher named = NAMED_MAILBOX.matcher(text);
        String address = named.matches() ? named.group(2).strip() : text;
        if (named.matches() && named.group(1).contains("<")) {
            throw new InvalidValue("is not a mailbox such as 'eventbank <noreply@bank.example>' or "
                    + "'noreply@bank.example'");
        }
        int at = address.lastIndexOf('@');
        if (at <= 0 || address.length() > EMAIL_LENGTH_MAX
                || !LOCAL_PART.matcher(address.substring(0, at)).matches()
                || !isHostName(address.substring(at + 1))) {
            throw new InvalidValue("is not a mailbox such as 'eventbank <noreply@bank.example>' or "
                    + "'noreply@bank.example'");
        }
        return address;
    }

    /**
     * A secret sent in an HTTP header or to an API: printable ASCII without spaces, at least
     * {@code lengthMin} characters. The message never repeats the value.
     */
    static String token(String text, int lengthMin, int lengthMax, String advice) {
        if (!text.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new InvalidValue("holds a character other than printable ASCII (spaces included)");
        }
        if (text.length() < lengthMin) {
            throw new InvalidValue("is too short: " + text.length() + " characters, at least " + lengthMin
                    + " are needed" + advice);
        }
        if (text.length() > lengthMax) {
            throw new InvalidValue("is too long: " + text.length() + " characters, at most " + lengthMax);
        }
        return text;
    }

    /** Free text on one line, such as a user name or a password, of at most {@code lengthMax} characters. */
    static String line(String text, int lengthMax) {
        if (text.chars().anyMatch(Character::isISOControl)) {
            throw new InvalidValue("contains a line break or another control character");
        }
        if (text.length() > lengthMax) {
            throw new InvalidValue("is too long: " + text.length() + " characters, at most " + lengthMax);
        }
        return text;
    }

    /** A duration as people say it: "15 minutes", "24 hours", "30 days", "90 seconds". */
    static String human(Duration duration) {
        if (duration.getNano() != 0) {
            return plural(duration.toMillis(), "millisecond");
        }
        long seconds = duration.getSeconds();
        if (seconds != 0 && seconds % 86_400 == 0 && seconds / 86_400 != 1) {
            return plural(seconds / 86_400, "day");
        }
        if (seconds != 0 && seconds % 3_600 == 0) {
            return plural(seconds / 3_600, "hour");
        }
        if (seconds != 0 && seconds % 60 == 0) {
            return plural(seconds / 60, "minute");
        }
        return plural(seconds, "second");
    }

    /** A size as people say it: "256 MiB", "1 KiB", "1000 bytes". */
    static String human(long bytes) {
        if (bytes != 0 && bytes % GIB == 0) {
            return bytes / GIB + " GiB";
        }
        if (bytes != 0 && bytes % MIB == 0) {
            return bytes / MIB + " MiB";
        }
        if (bytes != 0 && bytes % KIB == 0) {
            return bytes / KIB + " KiB";
        }
        return plural(bytes, "byte");
    }

    private static String plural(long count, String unit) {
        return count + " " + unit + (count == 1 ? "" : "s");
    }

    /** A pgjdbc URL for the journal: {@code jdbc:postgresql://host[:port][,host2...]/database}. */
    static String journalUrl(String text) {
        if (!text.startsWith("jdbc:postgresql://") || text.length() == "jdbc:postgresql://".length()) {
            throw new InvalidValue("is not a PostgreSQL JDBC URL such as jdbc:postgresql://db.example:5432/bank");
        }
        if (text.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new InvalidValue("holds a control character");
        }
        return text;
    }

    /** {@code true} or {@code false}. */
    static boolean bool(String text) {
        return switch (text.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidValue("is neither true nor false");
        };
    }

    /** The server key in base64: at least 32 bytes. */
    static byte[] serverKey(String text) {
        byte[] key;
        try {
            key = java.util.Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new InvalidValue("is not base64 (make a key with: openssl rand -base64 32)");
        }
        if (key.length < 32) {
            throw new InvalidValue("holds " + key.length + " bytes; a server key has at least 32"
                    + " (make one with: openssl rand -base64 32)");
        }
        return key;
    }

    /** The server key in a file, hex, as {@code data/server.key} holds it. */
    static Config.ServerKeySource.File serverKeyFile(Path file) {
        try {
            return new Config.ServerKeySource.File(file, eventbank.engine.ServerKey.read(file));
        } catch (java.io.IOException e) {
            throw new InvalidValue("cannot be read as a server key: " + e.getMessage());
        }
    }

    /** This machine's name, for a node's default name; {@code localhost} when it has none. */
    static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }
}
