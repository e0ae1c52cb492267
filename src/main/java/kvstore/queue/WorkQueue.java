package kvstore.queue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageCodec;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.MessageConsumerOptions;
import kvstore.core.Errors;
import kvstore.core.Op;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The work queue of the seed's design, on the Vert.x event bus: the HTTP layer puts each client
 * operation on the queue; the leader's coordinator takes it, runs it in its key's lane (per-key
 * order lives in the coordinator) and replies through the queue.
 *
 * <p>It is bounded: at most {@code capacity} operations are admitted at once; beyond that the
 * sender gets 503 {@code error: unable to process request} straight away, instead of the queue
 * growing without limit (the event bus's own buffer limit drops messages silently, so we count).
 *
 * <p>The consumer is local-only and messages are passed by reference (a local codec), so when the
 * HTTP server and the coordinator share a verticle the hop stays on one event loop.
 */
public final class WorkQueue {

    /** One client operation. */
    public record Job(Op op, String key, String value) {}

    /** Its answer: status, an error body, or the value bytes of a 200. */
    public record Done(int status, String body, byte[] value) {}

    private static final Done OVERLOADED = new Done(503, Errors.UNABLE, null);
    private static final Done TIMED_OUT = new Done(500, Errors.UNABLE, null);

    private final Map<Long, Message<Job>> admitted = new HashMap<>();
    private final MessageConsumer<Job> consumer;
    private final int capacity;
    private long nextId = 1;
    private long rejected;

    /**
     * Starts taking jobs from {@code address}. {@code runner} gets each admitted job with its id;
     * the owner answers it later with {@link #complete}. Call on the owner's event loop.
     */
    public WorkQueue(Vertx vertx, String address, int capacity, BiConsumer<Long, Job> runner) {
        registerCodecs(vertx);
        this.capacity = capacity;
        this.consumer = vertx.eventBus().consumer(new MessageConsumerOptions().setAddress(address).setLocalOnly(true),
                (Message<Job> msg) -> {
                    if (admitted.size() >= capacity) {
                        rejected++;
                        msg.reply(OVERLOADED);
                        return;
                    }
                    long id = nextId++;
                    admitted.put(id, msg);
                    runner.accept(id, msg.body());
                });
    }

    public void complete(long id, Done done) {
        Message<Job> msg = admitted.remove(id);
        if (msg != null) msg.reply(done);
    }

    /** Answers every admitted operation at once (the leader stepped down). */
    public void failAll(Done done) {
        for (Message<Job> msg : admitted.values()) msg.reply(done);
        admitted.clear();
    }

    /** Operations admitted and not yet answered. */
    public int depth() {
        return admitted.size();
    }

    public int capacity() {
        return capacity;
    }

    public long rejected() {
        return rejected;
    }

    public Future<Void> close() {
        return consumer.unregister();
    }

    /** Sends a job and waits for its answer; a lost answer becomes 500 after the timeout. */
    public static Future<Done> submit(Vertx vertx, String address, Job job, long timeoutMillis) {
        registerCodecs(vertx);
        return vertx.eventBus().<Done>request(address, job, new DeliveryOptions().setSendTimeout(timeoutMillis).setLocalOnly(true))
                .map(Message::body)
                .otherwise(TIMED_OUT);
    }

    public static String address(int port) {
        return "kvstore.leader." + port + ".work";
    }

    /* --- Local codecs: pass the objects themselves, never serialized --- */

    private static final Map<Vertx, Boolean> REGISTERED = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private static void registerCodecs(Vertx vertx) {
        if (REGISTERED.putIfAbsent(vertx, Boolean.TRUE) != null) return;
        vertx.eventBus().registerDefaultCodec(Job.class, new LocalCodec<>("kvstore.job"));
        vertx.eventBus().registerDefaultCodec(Done.class, new LocalCodec<>("kvstore.done"));
    }

    private record LocalCodec<T>(String name) implements MessageCodec<T, T> {
        @Override public void encodeToWire(Buffer buffer, T t) { throw new IllegalStateException("local only"); }
        @Override public T decodeFromWire(int pos, Buffer buffer) { throw new IllegalStateException("local only"); }
        @Override public T transform(T t) { return t; }
        @Override public byte systemCodecID() { return -1; }
    }
}
