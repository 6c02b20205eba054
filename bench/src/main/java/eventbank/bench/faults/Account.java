package eventbank.bench.faults;

/**
 * An account as the harness knows it: the email and password it was opened with, its number once
 * the opening was acknowledged, whether its link was followed, and a login token.
 */
final class Account {
    final String email;
    final String password;
    private volatile String number;
    private volatile boolean verified;
    private volatile String token;

    Account(String email, String password) {
        this.email = email;
        this.password = password;
    }

    String number() {
        return number;
    }

    void number(String value) {
        number = value;
    }

    boolean verified() {
        return verified;
    }

    void verified(boolean value) {
        verified = value;
    }

    String token() {
        return token;
    }

    void token(String value) {
        token = value;
    }

    /** Verified and logged in: may move money. */
    boolean usable() {
        return verified && token != null;
    }

    @Override
    public String toString() {
        return number == null ? email : number;
    }
}
