/**
 * What {@code GET /metrics} shows (SPEC.md section 2): {@link kvstore.metrics.NodeMetrics}, one
 * Micrometer registry per node served in Prometheus text, and the request types it counts. The
 * leader and the follower add their own meters ({@code leader.LeaderMetrics},
 * {@code follower.FollowerMetrics}). It owns no protocol state: it reads the figures the nodes
 * keep and counts what they answer. It must not put keys, values or secrets into labels.
 */
package kvstore.metrics;
