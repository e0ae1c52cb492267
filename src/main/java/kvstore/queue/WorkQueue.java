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
import kvstore.core.tpc.Answer;
import kvstore.core.tpc.ClientOp;

import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The work queue of the seed's design, on the Vert.x event bus: the HTTP layer puts each client
 * operation ({@link ClientOp}) on the queue; the leader's coordinator takes it, runs it in its
 * keys' lanes (per-key order lives in the coordinator) and answers through the queue.
 *
 * <p>It is bounded: at most {@code capacity} operations are admitted at once; beyond that the
 * sender gets 503 {@code error: unable to process request} straight away, instead of the queue
 * growing without limit (the event bus's own buffer limit drops messages silently, so we count).
 *
 * <p>The consumer is local-only and messages are passed by reference (a local codec), so when the
 * HTTP server and the coordinator share a verticle the hop stays on one event loop.
 */
public final class WorkQueue {

    private static final Answer OVERLOADED = Answer.error(503, Errors.UNABLE);

    private final Map<Long, Message<ClientOp>> admitted = new HashMap<>();
    private final MessageConsumer<ClientOp> consumer;
    private final int capacity;
    private long nextId = 1;
    private long rejected;

    /**
     * Starts taking jobs from {@code address}. {@code runner} gets each admitted job with its id;
     * the owner answers it later with {@link #complete}. Call on the owner's event loop.
     */
    public WorkQueue(Vertx vertx, String address, int capacity, BiConsumer<Long, ClientOp> runner) {
        registerCodecs(vertx);
        this.capacity = capacity;
        this.consumer = vertx.eventBus().consumer(new MessageConsumerOptions().setAddress(address).setLocalOnly(true),
                (Message<ClientOp> msg) -> {
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

    public void complete(long id, Answer answer) {
        Message<ClientOp> msg = admitted.remove(id);
        if (msg != null) msg.reply(answer);
    }

    /** Operations admitted and not yet answered. */
    public int depth() {
        return admitted.size();
    }

    public long rejected() {
        return rejected;
    }

    public Future<Void> close() {
        return consumer.unregister();
    }

    /**
     * Sends an operation and waits for its answer. The coordinator answers every operation
     * before its own deadline; this timeout is a backstop set well after it, and if it ever
     * fires the outcome is unknown: the answer is {@link Answer#CLOSE} (no answer), never an
     * error status (PROTOCOL.md, "Deadlines").
     */
    public static Future<Answer> submit(Vertx vertx, String address, ClientOp op, long timeoutMillis) {
        registerCodecs(vertx);
        return vertx.eventBus().<Answer>request(address, op, new DeliveryOptions().setSendTimeout(timeoutMillis).setLocalOnly(true))
                .map(Message::body)
                .otherwise(Answer.CLOSE);
    }

    public static String address(int port) {
        return "kvstore.leader." + port + ".work";
    }

    /* --- Local codecs: pass the objects themselves, never serialized --- */

    private static final Map<Vertx, Boolean> REGISTERED = java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private static void registerCodecs(Vertx vertx) {
        if (REGISTERED.putIfAbsent(vertx, Boolean.TRUE) != null) return;
        for (Class<?> op : ClientOp.class.getPermittedSubclasses()) registerCodec(vertx, op);
        vertx.eventBus().registerDefaultCodec(Answer.class, new LocalCodec<>("kvstore.answer"));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void registerCodec(Vertx vertx, Class<?> type) {
        vertx.eventBus().registerDefaultCodec((Class) type, new LocalCodec<>("kvstore." + type.getSimpleName()));
    }

    private record LocalCodec<T>(String name) implements MessageCodec<T, T> {
        @Override public void encodeToWire(Buffer buffer, T t) { throw new IllegalStateException("local only"); }
        @Override public T decodeFromWire(int pos, Buffer buffer) { throw new IllegalStateException("local only"); }
        @Override public T transform(T t) { return t; }
        @Override public byte systemCodecID() { return -1; }
    }
}
