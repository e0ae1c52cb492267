package kvstore.app;

/** Bad arguments: a one-line reason, the usage on stderr, exit code 2 (SPEC.md section 1). */
public final class UsageException extends Exception {
    public UsageException(String message) {
        super(message);
    }
}
