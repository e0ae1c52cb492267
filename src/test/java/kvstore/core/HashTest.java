package kvstore.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * SPEC.md section 4: strhash64 is the first 8 bytes of MD5 over the UTF-8 bytes, little-endian,
 * unsigned. The expected values were computed independently with Python's hashlib
 * ({@code struct.unpack('<Q', md5(s.encode()).digest()[:8])}).
 */
@Timeout(10)
class HashTest {
    @Test
    void pinnedValues() {
        assertEquals("8514701317032132957", Long.toUnsignedString(Hash.strhash64("hello")));
        assertEquals("338333539836370388", Long.toUnsignedString(Hash.strhash64("")));
        assertEquals("1359539607114484973", Long.toUnsignedString(Hash.strhash64("héllo wörld")));
        assertEquals("12157170054180749580", Long.toUnsignedString(Hash.strhash64("a")));
        assertEquals("14352291138056400322", Long.toUnsignedString(Hash.strhash64("key1")));
    }

    @Test
    void followerIdsArePortColonHost() {
        assertEquals("10749748402666635718", Long.toUnsignedString(Hash.followerId("127.0.0.1", 16201)));
        assertEquals("696120283255143182", Long.toUnsignedString(Hash.followerId("127.0.0.1", 16202)));
        assertEquals("13979902471517181329", Long.toUnsignedString(Hash.followerId("127.0.0.1", 16203)));
    }

    @Test
    void vnodeIdsAppendHashAndIndex() {
        assertEquals("7884556571801754187", Long.toUnsignedString(Hash.vnodeId("127.0.0.1", 16201, 0)));
        assertEquals("4533304345863913493", Long.toUnsignedString(Hash.vnodeId("127.0.0.1", 16201, 1)));
    }
}
