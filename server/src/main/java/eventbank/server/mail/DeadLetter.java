package eventbank.server.mail;

import java.time.Instant;

/**
 * One mail set aside in the {@link DeadLetters}: which mail, why, and the facts it was made of,
 * never its link or code.
 *
 * @param time         the event's time, the mail's Date
 * @param accountNumber the account the mail is about
 * @param amount       the amount of a withdrawal in cents, 0 for a verification mail
 * @param balanceAfter the balance after a withdrawal in cents, 0 for a verification mail
 * @param reason       the refusal, as the server gave it (one line)
 * @param setAsideAt   when the outbox (or the last refused retry) set it aside
 */
public record DeadLetter(long seq, OutgoingMail.Kind kind, String messageId, String to, String subject,
                         Instant time, long accountNumber, long amount, long balanceAfter, String reason,
                         Instant setAsideAt) {}
