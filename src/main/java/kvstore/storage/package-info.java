/**
 * Durability: the append-only log of one node and its recovery.
 *
 * <pre>
 * data directory
 *   wal-0000000001.log    segments: header, then records; only the newest is appended to
 *   snap-0000000007.snap  snapshot: header, the records that rebuild the state after segments
 *                         1..7, then a SNAPEND record with their count
 *   *.tmp                 a file being created; removed at the next start
 *   *.broken              bytes cut from a torn tail
 * header   magic "KVSTORE\n" | u16 version | u8 kind | u8 role | u64 sequence | u16 idLen | identity | u32 CRC32C
 * record   u32 length | u32 CRC32C of type+payload | u8 type | payload     (big-endian; see LogCodec)
 * </pre>
 *
 * <p>{@link kvstore.storage.LogStore} appends on the owning event loop through Vert.x's
 * AsyncFile, one write and one fsync at a time with group commit, rolls segments and compacts on
 * a worker thread. {@link kvstore.storage.Recovery} replays a directory on a worker thread,
 * cuts a torn tail and refuses damage, changing nothing unless all of it is sound. This package
 * knows records, not their meaning: the states it replays into live in {@code core}.
 */
package kvstore.storage;
