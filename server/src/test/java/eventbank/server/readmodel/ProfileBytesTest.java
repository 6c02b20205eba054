package eventbank.server.readmodel;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProfileBytesTest {
    private static final String HASH = "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

    private static byte[] profile(String email) {
        return (email + HASH).getBytes(StandardCharsets.UTF_8);
    }

    private static String text(ProfileBytes profiles, long location, int from, int length) {
        int at = ProfileBytes.at(location) + from;
        return new String(profiles.chunk(location), at, length, StandardCharsets.UTF_8);
    }

    @Test
    void theNormalizedEmailFollowsTheHashWhenItDiffersFromTheEmail() {
        ProfileBytes profiles = new ProfileBytes();
        long lower = profiles.append(profile("alice@example.com"), 17);
        assertThat(ProfileBytes.normalizedBytes(lower)).isZero();
        assertThat(text(profiles, lower, 0, 17 + HASH.length())).isEqualTo("alice@example.com" + HASH);

        long capitals = profiles.append(profile("Bob@Example.com"), 15);
        assertThat(ProfileBytes.normalizedBytes(capitals)).isEqualTo(15);
        assertThat(text(profiles, capitals, 15 + HASH.length(), 15)).isEqualTo("bob@example.com");

        String zoe = "Zoë.İnce@Example.com"; // İ is two bytes, and three in lower case (i and a dot above)
        int zoeBytes = zoe.getBytes(StandardCharsets.UTF_8).length;
        long beyondAscii = profiles.append(profile(zoe), zoeBytes);
        String normalized = "zoë.i̇nce@example.com";
        assertThat(ProfileBytes.normalizedBytes(beyondAscii)).isEqualTo(normalized.getBytes(StandardCharsets.UTF_8).length)
                .isEqualTo(zoeBytes + 1);
        assertThat(text(profiles, beyondAscii, 0, zoeBytes)).isEqualTo(zoe);
        assertThat(text(profiles, beyondAscii, zoeBytes + HASH.length(), zoeBytes + 1)).isEqualTo(normalized);
        // What came before stays where it was.
        assertThat(text(profiles, lower, 0, 17)).isEqualTo("alice@example.com");
    }

    /**
     * A normalized email longer than its email, for a profile that fills its chunk to the end
     * without it: the profile moves to a new chunk whole.
     */
    @Test
    void aProfileWhoseNormalizedEmailDoesNotFitItsChunkMovesToTheNext() {
        ProfileBytes profiles = new ProfileBytes();
        String email = "İİİ@example.com";
        byte[] profile = profile(email);
        int emailBytes = email.getBytes(StandardCharsets.UTF_8).length;
        long filler = profiles.append(new byte[ProfileBytes.CHUNK_BYTES - profile.length - emailBytes], 0);
        long moved = profiles.append(profile, emailBytes);
        assertThat(profiles.chunk(moved)).isNotSameAs(profiles.chunk(filler));
        assertThat(ProfileBytes.at(moved)).isZero();
        assertThat(text(profiles, moved, 0, profile.length)).isEqualTo(email + HASH);
        assertThat(text(profiles, moved, profile.length, emailBytes + 3)).isEqualTo("i̇i̇i̇@example.com");
        assertThat(ProfileBytes.at(filler)).isZero();
        // The next profile goes after it in the new chunk.
        long next = profiles.append(profile("next@example.com"), 16);
        assertThat(profiles.chunk(next)).isSameAs(profiles.chunk(moved));
        assertThat(ProfileBytes.at(next)).isEqualTo(profile.length + emailBytes + 3);
    }
}
