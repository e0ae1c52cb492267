package kvstore.core.tpc;

import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.view.Membership;
import kvstore.core.view.View;

import java.util.List;

/** A test fixture: follower F1 holding k0..k{n-1} ("v0"..), in a view where F3 joins F1 and F2 and a copy round is open. */
public final class CopySource {
    private CopySource() {}

    public static final Member F1 = Member.of("127.0.0.1", 16201), F2 = Member.of("127.0.0.1", 16202), F3 = Member.of("127.0.0.1", 16203);

    public static Participant withKeys(int n) {
        View v = View.empty(2, 1, 2);
        for (Member m : List.of(F1, F2)) v = Membership.register(v, m.host(), m.port(), "id-" + m.port(), 1, 0).view();
        Participant src = new Participant(F1.id());
        src.learnView(v);
        for (int i = 0; i < n; i++) {
            TxId t = new TxId(1, i + 1);
            src.prepare(t, 1, List.of(Write.put("k" + i, "v" + i)), null, 0);
            src.commit(t, 1, i + 1, null);
        }
        src.learnView(Membership.startCopy(Membership.register(Membership.capacity(v, 3, 1).view(), F3.host(), F3.port(), "id-3", 1, 0).view(), 1).view());
        return src;
    }
}
