package eventbank.server.http;

import eventbank.server.readmodel.AccountView;
import io.javalin.http.Context;
import java.util.Set;

/** {@code POST /api/login {account_number, password}} → 200 {token, expires_at}. */
final class LoginController {
    private final Api api;
    private final Passwords passwords;
    private final LoginThrottle throttle;

    LoginController(Api api, Passwords passwords, LoginThrottle throttle) {
        this.api = api;
        this.passwords = passwords;
        this.throttle = throttle;
    }

    void login(Context ctx) {
        JsonBody body = api.body(ctx, Set.of("account_number", "password"));
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
        Tokens.Issued issued = api.tokens.issue(number);
        ctx.json(Replies.map("token", issued.token(), "expires_at", issued.expiresAt().toString()));
    }

    private AccountView find(long number) {
        AccountView account = api.readModels.accounts().account(number).orElse(null);
        if (account == null && api.readModels.accounts().appliedSeq() < api.engine.committedSeq()) {
            api.awaitCommitted(api.readModels.accounts()); // opened a moment ago
            account = api.readModels.accounts().account(number).orElse(null);
        }
        return account;
    }

    private static ApiException invalidCredentials() {
        return new ApiException(401, "invalid_credentials", "The account number or the password is wrong.");
    }
}
