package eventbank.core;

/**
 * An event as the journal holds it: its position in the log (from 1, contiguous) and the time
 * the sequencer stamped on it, in microseconds since the epoch (UTC, never going backwards).
 */
public record Recorded(long seq, long timeMicros, Event event) {}
