/**
 * Two-phase commit as state machines (PROTOCOL.md): the leader's {@link
 * kvstore.core.tpc.Coordinator} (per-key lanes, votes, decisions, phase 2, the read rule,
 * inherited transactions) and a follower's {@link kvstore.core.tpc.Participant} (votes, locks,
 * the manual slot, outcomes). Events go in as method calls; what to do comes out as
 * {@link kvstore.core.tpc.Effect}s or {@link kvstore.core.tpc.Participant.Step}s that the shells
 * in {@code leader} and {@code follower} run. {@link kvstore.core.tpc.Batch} is the wire form
 * of many leader messages in one request. No I/O here.
 */
package kvstore.core.tpc;
