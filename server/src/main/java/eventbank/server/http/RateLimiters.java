package eventbank.server.http;

import eventbank.server.config.Config;
import java.time.Clock;

/**
 * The HTTP API's rate limiters, each named for what it counts and by what key.
 *
 * @param openingsPerAddress      accounts opened per client address
 *                                ({@code http.open_rate_per_minute})
 * @param resendsPerAddress       verification links asked for again per client address: as many
 *                                as openings, counted apart
 * @param resendsPerAccount       verification links sent again per account
 *                                ({@link #RESENDS_PER_ACCOUNT_PER_MINUTE})
 * @param moneyCommandsPerAccount transfers and withdrawals per account, a batch counting each
 *                                transfer ({@code limits.money_commands_per_minute})
 */
record RateLimiters(RateLimiter openingsPerAddress, RateLimiter resendsPerAddress, RateLimiter resendsPerAccount,
                    RateLimiter moneyCommandsPerAccount) {
    /**
     * How many links one account may be sent again a minute: one at once, then one a minute. A
     * flood of resends for one address, from however many client addresses, mails it that often.
     */
    static final int RESENDS_PER_ACCOUNT_PER_MINUTE = 1;

    static RateLimiters of(Config.RequestLimits limits, Clock clock) {
        return new RateLimiters(new RateLimiter(limits.openRatePerMinute(), clock),
                new RateLimiter(limits.openRatePerMinute(), clock),
                new RateLimiter(RESENDS_PER_ACCOUNT_PER_MINUTE, clock),
                new RateLimiter(limits.moneyCommandsPerMinute(), clock));
    }
}
