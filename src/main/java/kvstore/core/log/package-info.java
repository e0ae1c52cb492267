/**
 * What nodes write down: {@link kvstore.core.log.LogRecord}s and their byte format in
 * {@link kvstore.core.log.LogCodec} (its class comment is the format, down to the byte). The
 * codec encodes and decodes in memory and never throws on bad input; deciding whether damage is
 * a torn tail or corruption belongs to {@code storage.Recovery}. No I/O here.
 */
package kvstore.core.log;
