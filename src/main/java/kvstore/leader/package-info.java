/**
 * The leader's I/O shell: {@link kvstore.leader.LeaderVerticle} runs the coordinator's effects
 * (append and fsync, then send, then reply), {@link kvstore.leader.LeaderHttp} parses requests,
 * {@link kvstore.leader.FollowerClient} and {@link kvstore.leader.FollowerChannel} talk to
 * followers (batched, keep-alive), {@link kvstore.leader.FollowerMonitor} watches their health,
 * and {@link kvstore.leader.Election} decides the active leader in clustered mode. No protocol
 * decision is made here: those are the coordinator's.
 */
package kvstore.leader;
