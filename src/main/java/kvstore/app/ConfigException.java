package kvstore.app;

/** A config file that cannot be read or makes no sense: a one-line reason, exit code 1. */
public final class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }
}
