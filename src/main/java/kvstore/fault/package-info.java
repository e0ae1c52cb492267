/** Named crash points for tests ({@link kvstore.fault.FaultPoints}); inert unless armed. */
package kvstore.fault;
