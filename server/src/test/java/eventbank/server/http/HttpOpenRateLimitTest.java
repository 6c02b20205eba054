package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code http.open_rate_per_minute}: account openings per client address (here all from 127.0.0.1). */
class HttpOpenRateLimitTest {
    @TempDir
    Path temp;

    /**
     * Time stands still for the limiter: on a busy machine 30 openings may take longer than the 2 s
     * in which a bucket of 30 a minute gains a token back, and the 31st would rightly go through.
     */
    private static final Clock STILL = Clock.fixed(Instant.now(), ZoneOffset.UTC);

    @Test
    void theOpeningPastTheDefaultLimitIsRefusedWithRetryAfterAndRecordsNothing() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of(), STILL)) {
            assertThat(server.config.limits().openRatePerMinute()).isEqualTo(30);
            for (int i = 0; i < 30; i++) {
                server.open("open-" + i + "@example.com");
            }
            refusedAndNothingRecorded(server, 2);
        }
    }

    @Test
    void theOpeningPastASmallLimitIsRefused() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of("http.open_rate_per_minute", "2"),
                STILL)) {
            server.open("first@example.com");
            server.open("second@example.com");
            refusedAndNothingRecorded(server, 30);
            HttpApi.Response malformed = server.http.post("/api/account", Map.of("email", "x@example.com"), null, null);
            assertThat(malformed.status()).as("a malformed request is refused for what it is").isEqualTo(400);
        }
    }

    @Test
    void aLimitOfZeroNeverLimits() throws Exception {
        try (TestServer server = TestServer.start(temp.resolve("data"), Map.of("http.open_rate_per_minute", "0"))) {
            long before = server.service.engine().committedSeq();
            for (int i = 0; i < 60; i++) {
                server.open("unlimited-" + i + "@example.com");
            }
            assertThat(server.service.engine().committedSeq()).isEqualTo(before + 60);
        }
    }

    private static void refusedAndNothingRecorded(TestServer server, long retryAfterMax) throws Exception {
        long committed = server.service.engine().committedSeq();
        for (int i = 0; i < 3; i++) {
            HttpApi.Response refused = server.http.post("/api/account",
                    Map.of("email", "one-too-many-" + i + "@example.com", "password", "password-long-enough"),
                    null, "key-" + i);
            assertThat(refused.status()).as(refused.toString()).isEqualTo(429);
            assertThat(refused.error()).isEqualTo("too_many_attempts");
            assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(1L, retryAfterMax);
        }
        assertThat(server.service.engine().committedSeq()).as("nothing recorded").isEqualTo(committed);
    }
}
