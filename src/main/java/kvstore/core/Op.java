package kvstore.core;

/** The operations a client can ask of the store. Only PUT and DELETE are written through 2PC. */
public enum Op {
    GET, PUT, DELETE;

    public boolean isWrite() {
        return this != GET;
    }
}
