package eventbank.server.json;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Random right bodies with one random change each (a character dropped, doubled or replaced),
 * read both ways: the one-pass reading must read each as the strict reading does, and refuse
 * what it refuses (a right body left to the strict reading would only be slower). Shared by the
 * tests of the single transfer's and the batch's one-pass readings.
 */
final class DamagedBodies {
    private static final String ALPHABET = "{}[]\":,0123456789-+.eE tnulrfasx\\";
    private static final int ROUNDS = 20_000;

    private DamagedBodies() {}

    /**
     * Damages {@value #ROUNDS} bodies made by {@code rightBody} and asserts that {@code fast}
     * reads each as {@code strictly} does (null for refused), and that enough were still right
     * and enough refused for the comparison to mean something.
     */
    static <T> void assertReadAlike(Function<SplittableRandom, String> rightBody, Function<String, T> strictly,
                                    Function<String, T> fast) {
        SplittableRandom random = new SplittableRandom(17);
        int readFast = 0;
        int refused = 0;
        for (int round = 0; round < ROUNDS; round++) {
            StringBuilder body = new StringBuilder(rightBody.apply(random));
            int at = random.nextInt(body.length());
            switch (random.nextInt(3)) {
                case 0 -> body.deleteCharAt(at);
                case 1 -> body.insert(at, body.charAt(at));
                default -> body.setCharAt(at, ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            }
            String text = body.toString();
            T expected = strictly.apply(text);
            T actual = fast.apply(text);
            assertThat(actual).as(text).isEqualTo(expected);
            readFast += actual != null ? 1 : 0;
            refused += expected == null ? 1 : 0;
        }
        assertThat(readFast).as("damaged bodies still right").isGreaterThan(1_000);
        assertThat(refused).as("damaged bodies refused").isGreaterThan(5_000);
    }
}
