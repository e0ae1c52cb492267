package kvstore.core.view;

import kvstore.core.Member;

/**
 * A member of a view's target: the follower's ring identity, the identity of its data directory
 * (null for one registered by hand, which adopts the first real identity seen at its address),
 * whether it is draining, and {@code since}: the view number in which this membership began.
 * A follower that sees itself with a {@code since} it does not know is a new member: it holds
 * nothing it had before (PROTOCOL.md, "Views and moving keys").
 */
public record ViewMember(Member member, String identity, boolean draining, long since) {
    public ViewMember withDraining(boolean d) {
        return new ViewMember(member, identity, d, since);
    }

    public ViewMember withIdentity(String id) {
        return new ViewMember(member, id, draining, since);
    }
}
