/**
 * A follower's I/O shell: {@link kvstore.follower.FollowerVerticle} around the participant,
 * {@link kvstore.follower.FollowerHttp} for the participant API and batches, and
 * {@link kvstore.follower.Registrar} to stay registered with the leader(s). Every answer waits
 * for the fsync that covers the records its step produced.
 */
package kvstore.follower;
