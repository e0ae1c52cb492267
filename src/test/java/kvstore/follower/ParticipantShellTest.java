package kvstore.follower;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import kvstore.core.Hash;
import kvstore.core.Limits;
import kvstore.core.Member;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Batch;
import kvstore.core.tpc.Participant;
import kvstore.core.view.Membership;
import kvstore.core.view.Placement;
import kvstore.core.view.View;
import kvstore.storage.LogStore;
import kvstore.storage.Recovery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The follower's shell on a real event loop and a real log: a batch that brings a newer view
 * while the store is still being swept does not finish the sweep there and then.
 */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class ParticipantShellTest {
    static final Member F1 = Member.of("127.0.0.1", 16201), F2 = Member.of("127.0.0.1", 16202), F3 = Member.of("127.0.0.1", 16203);

    @TempDir
    Path dir;

    /**
     * A follower of many keys has just learned that a move took some of them away, and drops
     * them in slices; a batch with a newer view comes in. Before, applying that view finished
     * the whole pass at once on the event loop (about a second per million keys, the follower
     * silent meanwhile, its checks unanswered); now the batch, and every batch after it, waits
     * until the pass has ended a slice at a time, and they run in the order they came.
     */
    @Test
    void aBatchWithANewerViewWaitsForThePassOverTheStoreInsteadOfFinishingItAtOnce(Vertx vertx) throws Exception {
        View v = formed();
        View joined = copied(Membership.startCopy(Membership.register(Membership.capacity(v, 3, 1).view(), F3.host(), F3.port(), "id-3", 1, 0).view(), 1).view());
        View done = Membership.settle(Membership.finishMove(joined, 1, 9).view(), 1).view();
        View newer = Membership.capacity(done, 4, 1).view();
        int n = 10 * Participant.SWEEP_SLICE;
        List<LogRecord.Data> data = new ArrayList<>();
        for (int i = 0; i < n; i++) data.add(new LogRecord.Data("k" + i, i + 1, "v".getBytes()));
        Placement after = new Placement(done);
        long kept = data.stream().filter(d -> after.holds(F1.id(), Hash.strhash64(d.key()))).count();
        String keptKey = data.stream().filter(d -> after.holds(F1.id(), Hash.strhash64(d.key()))).findFirst().orElseThrow().key();

        Participant f = new Participant(F1.id());
        LogStore log = open(vertx, f);
        Context loop = vertx.getOrCreateContext();
        CompletableFuture<String> seen = new CompletableFuture<>();
        List<String> answered = new CopyOnWriteArrayList<>();
        loop.runOnContext(x -> {
            f.learnView(v);
            f.applyCopy(data);
            f.learnView(joined);
            f.learnView(done);
            if (!f.sweeping()) {
                seen.complete("the pass was expected to go on after the first slice");
                return;
            }
            ParticipantShell shell = new ParticipantShell(f, log, Limits.DEFAULTS, newerEpoch -> { }, task -> loop.runOnContext(y -> task.run()));
            long epoch = done.epoch();
            Future<ParticipantShell.BatchAnswer> first = shell.batch(epoch, null, List.of(new Batch.ViewItem(newer)));
            boolean sweptAtOnce = !f.sweeping();
            Future<ParticipantShell.BatchAnswer> second = shell.batch(epoch, null, List.of(new Batch.Read(keptKey)));
            // a read is answered when it runs (no fsync to wait for): the view it sees says when that was
            first.onSuccess(a -> answered.add("view " + a.status()));
            second.onSuccess(a -> answered.add("read " + a.status() + " under view " + f.view().number()));
            Future.all(first, second).onComplete(ar -> seen.complete((sweptAtOnce ? "swept at once; " : "") + "keys " + f.keyCount()
                    + ", view " + f.view().number() + ", sweeping " + f.sweeping()));
        });
        String outcome = seen.get(30, TimeUnit.SECONDS);
        assertEquals("keys " + kept + ", view " + newer.number() + ", sweeping false", outcome,
                "the batch returned before the pass was over, and ran once it was");
        assertTrue(answered.contains("read 200 under view " + newer.number()), "the batch after it waited behind it: " + answered);
        assertTrue(answered.contains("view 200"), answered.toString());
        log.close().await(10, TimeUnit.SECONDS);
        assertFalse(f.sweeping());
        assertTrue(kept < n && kept > 0, "the move took some keys away: " + kept + " of " + n);
    }

    /**
     * More batches waiting than the leader ever has on the wire (it keeps a few): the pass is
     * finished at once and every batch runs, in order, as before batches waited. Nothing waiting
     * is bounded only by the leader's good behaviour.
     */
    @Test
    void pastTheBoundEveryWaitingBatchRunsAtOnceInOrder(Vertx vertx) throws Exception {
        View v = formed();
        View joined = copied(Membership.startCopy(Membership.register(Membership.capacity(v, 3, 1).view(), F3.host(), F3.port(), "id-3", 1, 0).view(), 1).view());
        View done = Membership.settle(Membership.finishMove(joined, 1, 9).view(), 1).view();
        View newer = Membership.capacity(done, 4, 1).view();
        List<LogRecord.Data> data = new ArrayList<>();
        for (int i = 0; i < 10 * Participant.SWEEP_SLICE; i++) data.add(new LogRecord.Data("k" + i, i + 1, "v".getBytes()));
        Participant f = new Participant(F1.id());
        LogStore log = open(vertx, f);
        Context loop = vertx.getOrCreateContext();
        CompletableFuture<String> seen = new CompletableFuture<>();
        loop.runOnContext(x -> {
            f.learnView(v);
            f.applyCopy(data);
            f.learnView(joined);
            f.learnView(done);
            ParticipantShell shell = new ParticipantShell(f, log, Limits.DEFAULTS, newerEpoch -> { }, task -> loop.runOnContext(y -> task.run()));
            List<String> reads = new ArrayList<>();
            shell.batch(done.epoch(), null, List.of(new Batch.ViewItem(newer)));
            for (int i = 0; i < ParticipantShell.MAX_WAITING; i++) {
                boolean last = i == ParticipantShell.MAX_WAITING - 1;
                shell.batch(done.epoch(), null, List.of(new Batch.Read("k" + i))).onSuccess(a -> reads.add("view " + f.view().number()));
                if (!last && !reads.isEmpty()) seen.complete("a read ran before the bound: " + reads);
            }
            seen.complete("sweeping " + f.sweeping() + ", reads " + reads.size() + " " + new java.util.HashSet<>(reads));
        });
        assertEquals("sweeping false, reads " + ParticipantShell.MAX_WAITING + " [view " + newer.number() + "]", seen.get(30, TimeUnit.SECONDS));
        log.close().await(10, TimeUnit.SECONDS);
    }

    private static View formed() {
        View v = View.empty(2, 1, 2);
        for (Member m : List.of(F1, F2)) v = Membership.register(v, m.host(), m.port(), "id-" + m.port(), 1, 0).view();
        return v;
    }

    /** Every gainer has copied its keys. */
    private static View copied(View joined) {
        for (long g : new Placement(joined).gainers()) joined = Membership.copied(joined, g, joined.copyRound(), 1).view();
        return joined;
    }

    private LogStore open(Vertx vertx, Participant state) throws Exception {
        Recovery.Result rec = Recovery.recover(dir, FileHeader.FOLLOWER, state);
        return vertx.<LogStore>executeBlocking(() -> null)
                .compose(x -> LogStore.open(vertx, dir, FileHeader.FOLLOWER, LogStore.Settings.defaults(), () -> new Participant(F1.id()), rec))
                .await(10, TimeUnit.SECONDS);
    }
}
