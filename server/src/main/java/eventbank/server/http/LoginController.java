package eventbank.server.http;

import eventbank.server.json.JsonBody;
import eventbank.server.readmodel.AccountView;
import eventbank.server.readmodel.AccountsReadModel;
import io.javalin.http.Context;
import java.util.Set;

/** {@code POST /api/login {account_number, password}} → 200 {token, expires_at}. */
final class LoginController {
    private final Tokens tokens;
    private final AccountsReadModel accounts;
    private final ReadWaits waits;
    private final Passwords passwords;
    private final LoginThrottle throttle;

    LoginController(Tokens tokens, AccountsReadModel accounts, ReadWaits waits, Passwords passwords,
                    LoginThrottle throttle) {
        this.tokens = tokens;
        this.accounts = accounts;
        this.waits = waits;
        this.passwords = passwords;
        this.throttle = throttle;
    }

    record Token(String token, String expiresAt) {}

    void login(Context ctx) {
        JsonBody body = Requests.body(ctx, Set.of("account_number", "password"));
        String numberText = body.string("account_number");
        String password = body.string("password");
        long number = JsonBody.parseAccountNumber(numberText);
        AccountView account = number < 0 ? null : find(number);
        if (account == null) {
            passwords.burn(password); // as slow as a wrong password: no hint that the account is unknown
            throw invalidCredentials();
        }
        // Counted before the hash is checked, so that guesses sent in parallel cannot all pass.
        long blocked = throttle.attempt(number);
        if (blocked > 0) {
            throw new ApiException(429, "too_many_attempts", "Too many failed logins for this account; try again in "
                    + blocked + " seconds.", (int) Math.min(Integer.MAX_VALUE, blocked));
        }
        if (!passwords.matches(password, account.passwordHash())) {
            throw invalidCredentials(); // the attempt was counted as a failure above
        }
        throttle.succeeded(number);
        Tokens.Issued issued = tokens.issue(number);
        ctx.json(new Token(issued.token(), issued.expiresAt().toString()));
    }

    private AccountView find(long number) {
        AccountView account = accounts.account(number).orElse(null);
        if (account == null && !waits.holdsCommitted(accounts)) {
            waits.awaitCommitted(accounts); // opened a moment ago
            account = accounts.account(number).orElse(null);
        }
        return account;
    }

    private static ApiException invalidCredentials() {
        return new ApiException(401, "invalid_credentials", "The account number or the password is wrong.");
    }
}
