package eventbank.server.mail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A real SMTP server on a socket of the loopback interface that answers what the test tells it
 * to: GreenMail accepts every sender and recipient, and a test of refusals needs a server that
 * refuses. It speaks just enough SMTP for jakarta.mail (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
 */
public final class ScriptedSmtpServer implements AutoCloseable {
    private final ServerSocket socket;
    private final String mailReply;
    private final String rcptReply;
    /** RCPT TO lines holding this get {@link #rcptReply}; the others 250. Null: every one gets it. */
    private final String refusedRecipient;
    private final String dataReply;
    private final List<String> commands = new ArrayList<>();
    private final Thread thread;

    /** Each reply is a whole SMTP reply line, such as {@code 550 5.1.1 no such user}. */
    public ScriptedSmtpServer(String mailReply, String rcptReply, String dataReply) throws IOException {
        this(mailReply, rcptReply, dataReply, null);
    }

    /** Answers {@code rcptReply} only to recipients whose RCPT TO line holds {@code refusedRecipient}. */
    public ScriptedSmtpServer(String mailReply, String rcptReply, String dataReply, String refusedRecipient)
            throws IOException {
        this(0, mailReply, rcptReply, dataReply, refusedRecipient);
    }

    /** On this port of the loopback interface (0: any free one), so that another server can take it after. */
    public ScriptedSmtpServer(int port, String mailReply, String rcptReply, String dataReply, String refusedRecipient)
            throws IOException {
        this.socket = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
        this.mailReply = mailReply;
        this.rcptReply = rcptReply;
        this.refusedRecipient = refusedRecipient;
        this.dataReply = dataReply;
        this.thread = Thread.ofPlatform().daemon().start(this::serve);
    }

    public int port() {
        return socket.getLocalPort();
    }

    /** The commands received so far, in order (the message itself left out). */
    public synchronized List<String> commands() {
        return List.copyOf(commands);
    }

    private void serve() {
        while (!socket.isClosed()) {
            try (Socket client = socket.accept()) {
                converse(client);
            } catch (IOException e) {
                // The client went away, or the server was closed: take the next client, if any.
            }
        }
    }

    private void converse(Socket client) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
        Writer out = new OutputStreamWriter(client.getOutputStream(), StandardCharsets.UTF_8);
        reply(out, "220 scripted ESMTP");
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            synchronized (this) {
                commands.add(line);
            }
            String verb = line.length() < 4 ? line : line.substring(0, 4).toUpperCase(Locale.ROOT);
            switch (verb) {
                case "EHLO", "HELO" -> reply(out, "250 scripted");
                case "MAIL" -> reply(out, mailReply);
                case "RCPT" -> reply(out, refusedRecipient == null || line.contains(refusedRecipient) ? rcptReply
                        : "250 ok");
                case "DATA" -> {
                    reply(out, "354 go ahead");
                    for (String data = in.readLine(); data != null && !data.equals("."); data = in.readLine()) {
                        // The message: not kept.
                    }
                    reply(out, dataReply);
                }
                case "QUIT" -> {
                    reply(out, "221 bye");
                    return;
                }
                default -> reply(out, "250 ok");
            }
        }
    }

    private static void reply(Writer out, String line) throws IOException {
        out.write(line + "\r\n");
        out.flush();
    }

    @Override
    public void close() throws Exception {
        socket.close();
        thread.join(5_000);
    }
}
