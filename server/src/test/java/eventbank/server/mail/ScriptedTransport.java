package eventbank.server.mail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A transport that fails on demand: each attempt takes the next step of its script, then the
 * default step; a delivering step hands the mail to the real transport behind it.
 */
final class ScriptedTransport implements MailTransport {
    enum Step {
        /** Hand the mail on. */
        DELIVER,
        /** A temporary failure (the server is down). */
        FAIL,
        /** A permanent failure (the server refuses the address). */
        REFUSE,
        /** Hand the mail on, then fail as if the connection dropped before the reply. */
        DELIVER_THEN_FAIL
    }

    private final MailTransport delegate;
    private final List<Step> script = new ArrayList<>();
    private Step otherwise;
    private final List<OutgoingMail> attempts = new ArrayList<>();
    private final List<Long> attemptNanos = new ArrayList<>();
    private final List<OutgoingMail> delivered = new ArrayList<>();

    ScriptedTransport(MailTransport delegate, Step otherwise, Step... first) {
        this.delegate = delegate;
        this.otherwise = otherwise;
        Collections.addAll(script, first);
    }

    synchronized void otherwise(Step step) {
        otherwise = step;
    }

    @Override
    public void send(OutgoingMail mail) throws IOException {
        Step step;
        synchronized (this) {
            attempts.add(mail);
            attemptNanos.add(System.nanoTime());
            step = script.isEmpty() ? otherwise : script.remove(0);
            notifyAll();
        }
        switch (step) {
            case FAIL -> throw new IOException("simulated outage");
            case REFUSE -> throw new PermanentMailException("simulated refusal", null);
            case DELIVER, DELIVER_THEN_FAIL -> {
                delegate.send(mail);
                synchronized (this) {
                    delivered.add(mail);
                }
                if (step == Step.DELIVER_THEN_FAIL) {
                    throw new IOException("simulated connection drop after the mail was handed on");
                }
            }
        }
    }

    synchronized List<OutgoingMail> attempts() {
        return List.copyOf(attempts);
    }

    synchronized List<Long> attemptNanos() {
        return List.copyOf(attemptNanos);
    }

    synchronized List<OutgoingMail> delivered() {
        return List.copyOf(delivered);
    }

    /** Waits until at least {@code count} attempts were made. */
    synchronized void awaitAttempts(int count) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (attempts.size() < count) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new AssertionError("only " + attempts.size() + " of " + count + " attempts were made");
            }
            wait(left);
        }
    }
}
