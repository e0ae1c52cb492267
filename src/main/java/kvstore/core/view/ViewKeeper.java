package kvstore.core.view;

import kvstore.core.Member;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The leader's keeper of views (SPEC.md section 10; PROTOCOL.md, "Views and moving keys"). Every
 * change — a registration, an admin request, an automatic eviction, a step of a move — is a
 * {@link Membership} rule applied to the latest view, one at a time in the order asked: the
 * new view is made durable ({@link AppendView}) before anything acts on it. The coordinator then
 * uses it ({@link Act}) at once, or in cluster mode once a majority of the members have logged
 * it, so that a standby taking over (which hears from a majority) always finds the view that was
 * acted on.
 *
 * <p>On each tick it drives moves forward: it evicts a member that has not answered for
 * {@code healAfterMillis} (unless some key would be left with no current replica that is up),
 * starts the copy once every write begun under an older view has settled, completes the move
 * when every gainer holds its keys, and settles it once the completion is where a new leader
 * would find it and every write begun under an older view has settled. Pure: time and the leader's knowledge of its followers come in as parameters.
 */
public final class ViewKeeper {

    /** What the leader knows about its followers and transactions right now. */
    public interface Facts {
        boolean isUp(long memberId);

        /** How long the member has not answered with its own identity (0 when it is up). */
        long silentForMillis(long memberId, long now);

        /** Every transaction begun under a view older than {@code viewNumber} has settled where it can. */
        boolean settledBefore(long viewNumber);

        /**
         * False while evicting the member could lose what became of a transaction: it applied a
         * commit another replica has not yet, or a transaction found prepared is not yet resolved
         * (in cluster mode a new leader learns outcomes only from the replicas).
         */
        default boolean mayEvict(long memberId) {
            return true;
        }
    }

    public sealed interface Effect {}

    /** Make this view durable, then call {@link #durable}. */
    public record AppendView(View view) implements Effect {}

    /** The coordinator now uses this view. */
    public record Act(View view) implements Effect {}

    /** A membership event worth one log line. */
    public record Note(String message) implements Effect {}

    private record Proposal(Function<View, Membership.Change> rule, Consumer<Membership.Change> done) {}

    private long epoch;
    private final long healAfterMillis;
    private final boolean majorityAcks;
    private View latest;
    private View acting;
    private boolean appending;
    private final ArrayDeque<Proposal> proposals = new ArrayDeque<>();
    private final Map<Long, Long> logged = new HashMap<>();
    private final List<Effect> effects = new ArrayList<>();

    /**
     * @param start        the latest view this leader knows (its log's, or, after a takeover, the followers')
     * @param restate      make {@code start} this leader's own at once (a new number and epoch; a copy round
     *                     restarts, since writes of an earlier leader may still be settling)
     * @param majorityAcks cluster mode: act on a view only once a majority of members logged it
     */
    public ViewKeeper(long epoch, View start, boolean restate, long healAfterMillis, boolean majorityAcks) {
        this.epoch = epoch;
        this.healAfterMillis = healAfterMillis;
        this.majorityAcks = majorityAcks;
        this.latest = start;
        if (!majorityAcks || start.members().isEmpty()) {
            acting = start;
            effects.add(new Act(start));
        }
        if (restate && (start.number() > 0 || majorityAcks)) {
            propose(v -> new Membership.Change(v.next(epoch).withCopyRound(0), null, null), c -> { });
        }
    }

    public List<Effect> drain() {
        if (effects.isEmpty()) return List.of();
        List<Effect> out = new ArrayList<>(effects);
        effects.clear();
        return out;
    }

    /** Asks for a change; {@code done} gets the rule's outcome once its view (if any) is durable. */
    public void propose(Function<View, Membership.Change> rule, Consumer<Membership.Change> done) {
        proposals.add(new Proposal(rule, done));
        next();
    }

    private View previousDurable;
    private Proposal running;
    private Membership.Change runningChange;

    private void next() {
        while (!appending && !proposals.isEmpty()) {
            Proposal p = proposals.poll();
            Membership.Change c = p.rule.apply(latest);
            if (c.view() == null) {
                p.done.accept(c);
                continue;
            }
            appending = true;
            running = p;
            runningChange = c;
            previousDurable = latest;
            latest = c.view();
            effects.add(new AppendView(c.view()));
        }
    }

    /** The view appended last is durable: followers may be told, and the caller answered. */
    public void durable(View v) {
        if (!appending || v != latest) return;
        appending = false;
        Proposal p = running;
        Membership.Change c = runningChange;
        running = null;
        runningChange = null;
        if (c.reason() != null) effects.add(new Note(c.reason()));
        maybeAct();
        p.done.accept(c);
        next();
    }

    /** A follower's answer says it has logged view {@code number}. */
    public void logged(long memberId, long number) {
        Long was = logged.get(memberId);
        if (was != null && was >= number) return;
        logged.put(memberId, number);
        if (number > latest.number() && !appending) {
            // It holds a newer view from a leader before us: ours must go above it.
            long above = number;
            propose(v -> new Membership.Change(v.withNumber(above).next(epoch), null, null), c -> { });
        }
        maybeAct();
    }

    private void maybeAct() {
        if (appending || latest == acting) return;
        if (majorityAcks && !majorityLogged(latest)) return;
        acting = latest;
        effects.add(new Act(latest));
    }

    private boolean majorityLogged(View v) {
        Set<Long> voters = new HashSet<>();
        for (ViewMember m : v.members()) voters.add(m.member().id());
        if (voters.isEmpty()) return true;
        int have = 0;
        for (long id : voters) if (logged.getOrDefault(id, -1L) >= v.number()) have++;
        return have >= voters.size() / 2 + 1;
    }

    /** Drives moves forward and evicts members silent for too long. Call about once a second. */
    public void tick(long now, long wallMillis, Facts facts) {
        maybeAct();
        if (appending || !proposals.isEmpty()) return;
        View v = latest;
        if (healAfterMillis > 0 && v.formed() && acting == latest) {
            Set<Long> down = down(v, facts);
            heldBack.retainAll(down);
            for (ViewMember m : v.members()) {
                long id = m.member().id();
                long silent = down.contains(id) ? facts.silentForMillis(id, now) : 0;
                if (silent < healAfterMillis) continue;
                Member mm = m.member();
                if (!facts.mayEvict(id)) {
                    // usually for a moment, while the coordinator resolves what it had prepared: said if it lasts
                    if (silent >= healAfterMillis + HOLD_SAID_AFTER_MILLIS) {
                        holdBack(mm, "it may hold the outcome of a transaction that no other replica has yet");
                    }
                    continue;
                }
                propose(x -> Membership.evict(x, mm.host(), mm.port(), true, down, majorityAcks, epoch, wallMillis), c -> {
                    if (c.ok() && c.view() != null) {
                        heldBack.remove(id);
                        effects.add(new Note("evicted follower " + mm.address() + ": no answer for " + healAfterMillis / 1000
                                + " s (--heal-after); its keys get new replicas (view " + c.view().number() + ")"));
                    } else if (c.reason() != null) {
                        holdBack(mm, c.reason());
                    }
                });
                return;
            }
        }
        if (acting != latest) return;
        if (v.moving() && v.copyRound() == 0 && facts.settledBefore(v.number())) {
            propose(x -> Membership.startCopy(x, epoch), c -> { });
        } else if (Membership.complete(v)) {
            Set<Long> down = down(v, facts);
            propose(x -> Membership.finishMove(x, epoch, wallMillis, down, majorityAcks), c -> {
                if (c.view() != null) effects.add(new Note("rebalance done: every key has its replicas of view " + c.view().number()));
            });
        } else if (!v.moving() && !v.settled() && facts.settledBefore(v.number())) {
            // Settling lets members drop what they lost; a write planned under an older view may
            // still be on its way to one of them, and must find the key where it was planned.
            propose(x -> Membership.settle(x, epoch), c -> { });
        }
    }

    /**
     * Members silent past heal-after that stay members for now (evicting them would lose keys or
     * a transaction's outcome): the log says so once for each, not at every tick, until it answers
     * again or is evicted.
     */
    private final Set<Long> heldBack = new HashSet<>();
    private static final long HOLD_SAID_AFTER_MILLIS = 5_000;

    private void holdBack(Member m, String reason) {
        if (heldBack.add(m.id())) {
            effects.add(new Note("follower " + m.address() + " has not answered for " + healAfterMillis / 1000
                    + " s (--heal-after) but stays a member for now: " + reason));
        }
    }

    /** The members of {@code v} that do not answer now. */
    private static Set<Long> down(View v, Facts facts) {
        Set<Long> out = new HashSet<>();
        for (ViewMember m : v.members()) if (!facts.isUp(m.member().id())) out.add(m.member().id());
        return out;
    }

    /** The leader's epoch changed before it served (it found a follower ahead of its log): views carry the new one. */
    public void epoch(long e) { epoch = Math.max(epoch, e); }

    public View latest() { return latest; }

    /** The latest view that is durable: what followers are told. */
    public View durable() { return appending ? previousDurable : latest; }

    public View acting() { return acting; }

    /** The view number a follower has logged, or -1. */
    public long loggedBy(long memberId) { return logged.getOrDefault(memberId, -1L); }
}
