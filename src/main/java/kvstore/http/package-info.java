/**
 * What every HTTP server of ours shares: limits and timeouts ({@link kvstore.http.Intake},
 * {@link kvstore.http.ServerOptions}), who may do what ({@link kvstore.http.Guard}), replies,
 * and the web client served from memory ({@link kvstore.http.StaticFiles}). No routes and no
 * protocol here: those belong to the leader and follower packages.
 */
package kvstore.http;
