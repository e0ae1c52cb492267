package kvstore.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** PROTOCOL.md, "Names": tx ids are EPOCH.N. */
@Timeout(10)
class TxIdTest {
    @Test
    void parsesAndPrints() {
        assertEquals(new TxId(3, 17), TxId.parse("3.17"));
        assertEquals("3.17", new TxId(3, 17).toString());
        assertNull(TxId.parse("3"));
        assertNull(TxId.parse(".1"));
        assertNull(TxId.parse("1."));
        assertNull(TxId.parse("0.1"));     // epoch 0 is the manual slot's, never on the wire
        assertNull(TxId.parse("-1.2"));
        assertNull(TxId.parse("1.2.3"));
        assertNull(TxId.parse("99999999999999999999.1"));
    }
}
