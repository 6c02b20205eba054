package eventbank.engine.keys;

import java.io.IOException;

/**
 * The key store cannot do what was asked, for a reason that is not the operating system's: a
 * missing or wrong key-encryption key, a slot that holds another account, a checksum or an
 * authentication tag that does not match. The message names the file, the slot and the account.
 */
public final class PersonalKeysException extends IOException {
    public PersonalKeysException(String message) {
        super(message);
    }

    public PersonalKeysException(String message, Throwable cause) {
        super(message, cause);
    }
}
