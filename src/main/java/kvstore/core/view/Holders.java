package kvstore.core.view;

import kvstore.core.Member;

import java.util.List;
import java.util.Set;

/**
 * The target ring of a move that a later change restarted, and the members that had copied every
 * key that ring gave them ({@code holders}): they hold those keys as of the restart, so a gainer
 * of the new move may copy from them (PROTOCOL.md, "Views and moving keys").
 */
public record Holders(List<Member> ring, Set<Long> holders) {
    public Holders {
        ring = List.copyOf(ring);
        holders = Set.copyOf(holders);
    }
}
