/**
 * The work queue on the Vert.x event bus between the leader's HTTP layer and its coordinator:
 * bounded (503 beyond it), local-only, objects passed by reference.
 */
package kvstore.queue;
