/**
 * The pure core: everything that decides, nothing that does. Error bodies ({@link
 * kvstore.core.Errors}), our own query decoding and validation ({@link kvstore.core.Params},
 * {@link kvstore.core.KeyRequest}), placement ({@link kvstore.core.Hash}, {@link
 * kvstore.core.Ring}), the leader's registry and log state.
 *
 * <p>It imports only the JDK: no Vert.x, no logging, no clock, no randomness, no files, no
 * threads, no environment ({@code kvstore.ArchitectureTest} fails otherwise). Time comes in as a parameter.
 */
package kvstore.core;
