package kvstore.core.log;

/**
 * What the decoder found at an offset: a whole record, an incomplete one (the bytes end inside
 * it: a torn tail if nothing valid follows), or bytes that cannot be a record (checksum, length
 * or type wrong).
 */
public sealed interface Decoded {
    record Ok(LogRecord record, int length) implements Decoded {}

    record Incomplete() implements Decoded {}

    record Bad(String reason) implements Decoded {}

    Incomplete INCOMPLETE = new Incomplete();
}
