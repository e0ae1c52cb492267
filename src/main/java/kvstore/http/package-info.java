/**
 * What every HTTP server of ours shares: limits and timeouts ({@link kvstore.http.Intake},
 * {@link kvstore.http.ServerOptions}), who may do what ({@link kvstore.http.Guard}), replies, and
 * the routes both roles answer the same way on vertx-web ({@link kvstore.http.NodeRouter}:
 * health, status, metrics, the web client's files). No protocol here: the seed's requests and
 * the protocol's paths belong to the leader and follower packages.
 */
package kvstore.http;
