package kvstore.leader;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RepeatedRefusalsTest {
    static final String FULL = "error: follower capacity already full";

    @Test
    void aFollowerAskingEveryFiveSecondsIsLoggedOnceAMinute() {
        RepeatedRefusals r = new RepeatedRefusals();
        assertTrue(r.shouldLog("h:1", FULL, 0), "the first refusal");
        for (long t = 5_000; t < RepeatedRefusals.REPEAT_MILLIS; t += 5_000) assertFalse(r.shouldLog("h:1", FULL, t), "again at " + t);
        assertTrue(r.shouldLog("h:1", FULL, RepeatedRefusals.REPEAT_MILLIS), "a minute later");
        assertFalse(r.shouldLog("h:1", FULL, RepeatedRefusals.REPEAT_MILLIS + 5_000));
    }

    @Test
    void anotherReasonAnotherFollowerOrARegistrationInBetweenIsNews() {
        RepeatedRefusals r = new RepeatedRefusals();
        assertTrue(r.shouldLog("h:1", FULL, 0));
        assertTrue(r.shouldLog("h:2", FULL, 1), "another follower");
        assertTrue(r.shouldLog("h:1", "error: identity mismatch", 2), "another reason");
        r.accepted("h:1");
        assertTrue(r.shouldLog("h:1", "error: identity mismatch", 3), "refused again after it was accepted");
    }

    @Test
    void itRemembersABoundedNumberOfFollowers() {
        RepeatedRefusals r = new RepeatedRefusals();
        for (int i = 0; i < 3 * RepeatedRefusals.MAX_FOLLOWERS; i++) assertTrue(r.shouldLog("h:" + i, FULL, 0));
        // after starting afresh, a follower seen long ago is news again: never more than the bound is kept
        assertTrue(r.shouldLog("h:0", FULL, 1));
    }
}
