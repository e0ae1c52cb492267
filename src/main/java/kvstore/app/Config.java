package kvstore.app;

import io.netty.util.NetUtil;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Limits;
import kvstore.node.NodeSettings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The command line, the environment and the {@code --conf} file, turned into what to run
 * (SPEC.md section 1). Precedence, highest first: named options, positionals, environment, the
 * config file, defaults. Config keys are the option names in camelCase.
 */
public final class Config {

    /** What the command line asks for. */
    public record Command(String verb, NodeSettings settings, List<String> words, String leaderUrl) {}

    static final Set<String> ROLES = Set.of("leader", "follower", "embedded");
    static final Set<String> CLIENT_VERBS = Set.of("get", "put", "del", "status", "members", "txn");
    /** The subcommands of {@code members} that change the membership, with their argument. */
    static final Set<String> MEMBER_ACTIONS = Set.of("evict", "drain", "capacity");

    /** Options only the client verbs take, by their key, and the verbs that take each. */
    private static final Map<String, String> CLIENT_VALUE_OPTIONS = Map.of("--if-version", "ifVersion");
    private static final Map<String, String> CLIENT_FLAG_OPTIONS = Map.of("--json", "json");
    private static final Map<String, Set<String>> CLIENT_OPTION_VERBS = Map.of(
            "leader", CLIENT_VERBS, "ifVersion", Set.of("put", "del"), "json", Set.of("members"));

    /** Options that take a value, by their config key. */
    private static final Map<String, String> VALUE_OPTIONS = new LinkedHashMap<>();
    /** Options that are flags, by their config key. */
    private static final Map<String, String> FLAG_OPTIONS = new LinkedHashMap<>();

    static {
        for (String k : List.of("port", "host", "advertise", "followers", "redundancy", "leader", "dataDir", "secret",
                "clientToken", "vnodes", "maxKeyBytes", "maxValueBytes", "clusterPort", "clusterMembers", "conf",
                "segmentBytes", "requestTimeoutMillis", "opTimeoutMillis", "checkIntervalMillis", "queueCapacity", "healAfter",
                "copyRate")) {
            VALUE_OPTIONS.put("--" + kebab(k), k);
        }
        FLAG_OPTIONS.put("--insecure", "insecure");
        FLAG_OPTIONS.put("--cluster", "cluster");
        FLAG_OPTIONS.put("--no-group-commit", "noGroupCommit");
    }

    /** Settings that the environment may give (above the config file, below the command line). */
    private static final Map<String, String> ENV_KEYS = Map.of("secret", "KVSTORE_SECRET", "clientToken", "KVSTORE_TOKEN",
            "healAfter", "KVSTORE_HEAL_AFTER");

    private static final Set<String> FILE_KEYS = Set.of("role", "port", "host", "advertise", "followers", "redundancy",
            "leader", "dataDir", "secret", "clientToken", "insecure", "vnodes", "maxKeyBytes", "maxValueBytes",
            "cluster", "clusterPort", "clusterMembers", "groupCommit", "segmentBytes", "requestTimeoutMillis",
            "opTimeoutMillis", "checkIntervalMillis", "queueCapacity", "healAfter", "copyRate");

    static String kebab(String camel) {
        StringBuilder sb = new StringBuilder();
        for (char c : camel.toCharArray()) {
            if (Character.isUpperCase(c)) sb.append('-').append(Character.toLowerCase(c));
            else sb.append(c);
        }
        return sb.toString();
    }

    public static Command parse(String[] args, Map<String, String> env) throws UsageException, ConfigException {
        List<String> positionals = new ArrayList<>();
        // Where a -v stood before any --: get's flag (SPEC.md section 11); for every other verb a word, as before.
        Set<Integer> dashV = new java.util.HashSet<>();
        Map<String, Object> named = new HashMap<>();
        Map<String, Object> clientNamed = new LinkedHashMap<>();
        boolean optionsEnded = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (optionsEnded) {
                positionals.add(a);
                continue;
            }
            if (a.equals("--")) { // everything after is a word, even if it starts with --
                optionsEnded = true;
                continue;
            }
            if (a.equals("-h") || a.equals("--help")) return new Command("help", null, List.of(), null);
            if (a.equals("-v")) dashV.add(positionals.size());
            if (a.startsWith("--") && clientOption(a, args, i, clientNamed)) {
                if (CLIENT_VALUE_OPTIONS.containsKey(a)) i++; // its value was the next argument
                continue;
            }
            if (a.startsWith("--")) {
                String name = a, value = null;
                int eq = a.indexOf('=');
                if (eq > 0) {
                    name = a.substring(0, eq);
                    value = a.substring(eq + 1);
                }
                if (FLAG_OPTIONS.containsKey(name)) {
                    boolean on = true;
                    if (value != null) {
                        if (value.equalsIgnoreCase("true")) on = true;
                        else if (value.equalsIgnoreCase("false")) on = false;
                        else throw new UsageException(name + " takes no value (or true/false), got '" + value + "'");
                    }
                    named.put(FLAG_OPTIONS.get(name), on);
                } else if (VALUE_OPTIONS.containsKey(name)) {
                    if (value == null) {
                        if (i + 1 >= args.length) throw new UsageException(name + " needs a value");
                        value = args[++i];
                    }
                    named.put(VALUE_OPTIONS.get(name), value);
                } else {
                    throw new UsageException("unknown option " + name);
                }
            } else {
                positionals.add(a);
            }
        }
        String verb = positionals.isEmpty() ? null : positionals.get(0).toLowerCase(Locale.ROOT);
        if (verb != null && (verb.equals("help"))) return new Command("help", null, List.of(), null);
        int at = 0; // where the verb stands: after any -v, when the verb is get ("-v get KEY")
        while (at < positionals.size() && dashV.contains(at)) at++;
        if (at > 0 && at < positionals.size() && positionals.get(at).equalsIgnoreCase("get")) verb = "get";
        else at = 0;
        if (verb != null && CLIENT_VERBS.contains(verb)) {
            return clientCommand(verb, positionals, at, dashV, named, clientNamed);
        }
        if (!clientNamed.isEmpty()) {
            String option = clientNamed.keySet().iterator().next();
            throw new UsageException("--" + kebab(option) + " applies only to the client verbs " + CLIENT_OPTION_VERBS.get(option).stream().sorted().toList());
        }
        JsonObject file = named.containsKey("conf") ? readConf(Path.of((String) named.get("conf"))) : new JsonObject();
        String role;
        List<String> pos;
        if (verb == null) {
            role = file.getString("role", "embedded");
            pos = List.of();
        } else if (ROLES.contains(verb)) {
            role = verb;
            pos = positionals.subList(1, positionals.size());
        } else {
            throw new UsageException("unknown role or command '" + positionals.get(0) + "'");
        }
        if (!ROLES.contains(role)) throw new ConfigException("unknown role '" + role + "' in " + named.get("conf"));
        return new Command(role, settings(role, pos, named, env, file), List.of(), null);
    }

    /**
     * Takes a client-only option ({@code --if-version V}, {@code --if-version=V}, {@code --json})
     * into {@code clientNamed}; false when {@code a} is not one. The roles refuse these later.
     */
    private static boolean clientOption(String a, String[] args, int i, Map<String, Object> clientNamed) throws UsageException {
        String name = a, value = null;
        int eq = a.indexOf('=');
        if (eq > 0) {
            name = a.substring(0, eq);
            value = a.substring(eq + 1);
        }
        if (CLIENT_FLAG_OPTIONS.containsKey(name)) {
            if (value != null) throw new UsageException(name + " takes no value, got '" + value + "'");
            clientNamed.put(CLIENT_FLAG_OPTIONS.get(name), true);
            return true;
        }
        if (!CLIENT_VALUE_OPTIONS.containsKey(name)) return false;
        if (value == null) {
            if (i + 1 >= args.length) throw new UsageException(name + " needs a value");
            value = args[i + 1];
        }
        clientNamed.put(CLIENT_VALUE_OPTIONS.get(name), value);
        return true;
    }

    /**
     * A client verb (SPEC.md sections 9, 10 and 11): checks its words and options and hands
     * {@link Cli} one {@link Cli.Call}. {@code positionals} holds the verb at {@code at};
     * {@code dashV} says which of them were a {@code -v} before any {@code --}.
     */
    private static Command clientCommand(String verb, List<String> positionals, int at, Set<Integer> dashV, Map<String, Object> named,
                                         Map<String, Object> clientNamed) throws UsageException {
        for (String option : named.keySet()) {
            if (!option.equals("leader")) {
                throw new UsageException("--" + kebab(option) + " does not apply to '" + verb + "' (the client takes --leader;"
                        + " the secret and token come from KVSTORE_SECRET and KVSTORE_TOKEN)");
            }
        }
        for (String option : clientNamed.keySet()) {
            if (!CLIENT_OPTION_VERBS.get(option).contains(verb)) {
                throw new UsageException("--" + kebab(option) + " does not apply to '" + verb + "' (only to "
                        + String.join(", ", CLIENT_OPTION_VERBS.get(option).stream().sorted().toList()) + ")");
            }
        }
        boolean showVersion = false;
        List<String> words = new ArrayList<>();
        for (int i = 0; i < positionals.size(); i++) {
            if (i == at) continue;
            if (verb.equals("get") && dashV.contains(i)) showVersion = true;
            else words.add(positionals.get(i));
        }
        Long ifVersion = null;
        if (clientNamed.containsKey("ifVersion")) {
            String v = (String) clientNamed.get("ifVersion");
            try {
                ifVersion = Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
                ifVersion = -1L;
            }
            if (ifVersion < 0) throw new UsageException("--if-version must be a version, a whole number from 0 up, got '" + v + "'");
        }
        boolean json = clientNamed.containsKey("json");
        if (verb.equals("members")) {
            checkMembers(words, json);
        } else {
            int want = switch (verb) {
                case "get", "del", "txn" -> 1;
                case "put" -> 2;
                default -> 0;
            };
            if (words.size() != want) {
                String what = switch (verb) {
                    case "put" -> " (KEY VALUE)";
                    case "txn" -> " (FILE, or - for stdin)";
                    case "get", "del" -> " (KEY)";
                    default -> "";
                };
                throw new UsageException(verb + " takes " + want + " argument" + (want == 1 ? "" : "s") + what + ", got " + words.size());
            }
        }
        String leader = (String) named.getOrDefault("leader", "127.0.0.1:16200");
        String[] hp = hostPort(leader, "--leader");
        String url = "http://" + (hp[0].contains(":") ? "[" + hp[0] + "]" : hp[0]) + ":" + hp[1];
        Cli.Call call = new Cli.Call(verb, List.copyOf(words), ifVersion, showVersion, json);
        return new Command(call.mainVerb(), null, call.encode(), url);
    }

    /** {@code members}, {@code members evict|drain HOST:PORT}, {@code members capacity N}. */
    private static void checkMembers(List<String> words, boolean json) throws UsageException {
        if (words.isEmpty()) return;
        String action = words.get(0);
        if (!MEMBER_ACTIONS.contains(action)) {
            throw new UsageException("members takes no argument, or evict HOST:PORT, drain HOST:PORT or capacity N; got '" + action + "'");
        }
        if (json) throw new UsageException("--json applies to the list (members), not to 'members " + action + "', which prints JSON anyway");
        if (words.size() != 2) {
            throw new UsageException("members " + action + " takes 1 argument (" + (action.equals("capacity") ? "N" : "HOST:PORT")
                    + "), got " + (words.size() - 1));
        }
        if (action.equals("capacity")) parseInt(words.get(1), "members capacity N", 1, 1000);
        else hostPort(words.get(1), "members " + action + " HOST:PORT");
    }

    private static JsonObject readConf(Path path) throws ConfigException {
        String text;
        try {
            text = Files.readString(path);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + path + ": " + e.getMessage());
        }
        JsonObject o;
        try {
            o = new JsonObject(text);
        } catch (DecodeException | ClassCastException e) {
            throw new ConfigException("config file " + path + " is not a JSON object");
        }
        for (String k : o.fieldNames()) {
            if (!FILE_KEYS.contains(k)) throw new ConfigException("unknown key '" + k + "' in config file " + path);
        }
        return o;
    }

    /* --- Resolving each setting: named, positional, environment, file, default --- */

    private static NodeSettings settings(String role, List<String> pos, Map<String, Object> named, Map<String, String> env,
                                         JsonObject file) throws UsageException, ConfigException {
        int maxPos = role.equals("leader") ? 3 : role.equals("follower") ? 2 : 0;
        if (pos.size() > maxPos) throw new UsageException("too many arguments for " + role + ": " + String.join(" ", pos));
        Map<String, String> positional = new HashMap<>();
        if (role.equals("leader")) {
            String[] keys = {"port", "followers", "redundancy"};
            for (int i = 0; i < pos.size(); i++) positional.put(keys[i], pos.get(i));
        } else if (role.equals("follower")) {
            if (pos.size() > 0) positional.put("port", pos.get(0));
            if (pos.size() > 1) positional.put("leaderPort", pos.get(1));
        }
        Resolver r = new Resolver(named, positional, env, file);

        int port = r.integer("port", role.equals("follower") ? 16201 : 16200, 1, 65535);
        String host = r.string("host", "127.0.0.1");
        String advertise = r.string("advertise", null);
        boolean wildcard = host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]");
        if (advertise == null) {
            if (wildcard) throw new UsageException("--host " + host + " is a wildcard: say how others reach this node with --advertise");
            advertise = host;
        }
        String secret = emptyToNull(r.string("secret", null));
        String token = emptyToNull(r.string("clientToken", null));
        checkCredential(secret, "--secret (or KVSTORE_SECRET, or \"secret\")");
        checkCredential(token, "--client-token (or KVSTORE_TOKEN, or \"clientToken\")");
        boolean insecure = r.bool("insecure", false);
        if (secret == null && !insecure && !isLoopback(host)) {
            throw new UsageException("refusing to listen on " + host + " without a cluster secret: set --secret (or KVSTORE_SECRET)"
                    + ", or pass --insecure if this network is private");
        }
        int defaultFollowers = role.equals("embedded") ? 3 : 1;
        int followers = r.integer("followers", defaultFollowers, 1, 1000);
        int redundancy = r.integer("redundancy", role.equals("embedded") ? 2 : 1, 1, 1000);
        int vnodes = r.integer("vnodes", 1, 1, 4096);

        String leaderHost = "127.0.0.1";
        int leaderPort = 16200;
        String leader = r.string("leader", null);
        if (leader != null) {
            String[] hp = hostPort(leader, "--leader");
            leaderHost = hp[0];
            leaderPort = Integer.parseInt(hp[1]);
        }
        if (positional.containsKey("leaderPort")) leaderPort = parseInt(positional.get("leaderPort"), "leader_port", 1, 65535);
        if (named.containsKey("leader")) {
            String[] hp = hostPort((String) named.get("leader"), "--leader");
            leaderHost = hp[0];
            leaderPort = Integer.parseInt(hp[1]);
        }
        boolean leaderExplicit = leader != null || positional.containsKey("leaderPort");

        int maxKey = r.integer("maxKeyBytes", Limits.DEFAULT_MAX_KEY_BYTES, 1, 1 << 20);
        int maxValue = r.integer("maxValueBytes", Limits.DEFAULT_MAX_VALUE_BYTES, 1, 1 << 20);
        boolean groupCommit = r.bool("groupCommit", true) && !r.bool("noGroupCommit", false);
        long segmentBytes = r.integer("segmentBytes", 8 << 20, 64 << 10, 1 << 30);
        long requestTimeout = r.integer("requestTimeoutMillis", 3_000, 50, 600_000);
        long opTimeout = r.integer("opTimeoutMillis", 5_000, 100, 600_000);
        long checkInterval = r.integer("checkIntervalMillis", 500, 50, 2_000);
        long healAfter = r.integer("healAfter", 30, 0, 86_400) * 1_000L;
        long copyRate = r.integer("copyRate", 64, 0, 10_000) * 1048576L;
        int queueCapacity = r.integer("queueCapacity", 10_000, 1, 1_000_000);
        boolean cluster = r.bool("cluster", false);
        if (cluster && role.equals("embedded")) {
            throw new UsageException("--cluster runs one node per process: start a leader or a follower with it");
        }
        int clusterPort = r.integer("clusterPort", 5701, 1, 65535);
        String clusterMembers = r.string("clusterMembers", null);

        String dataDirText = r.string("dataDir", null);
        Path dataDir;
        if (role.equals("embedded")) dataDir = Paths.get(dataDirText == null ? "data" : dataDirText);
        else if (dataDirText != null) dataDir = Paths.get(dataDirText);
        else dataDir = Paths.get("data", role + "-" + port);

        return new NodeSettings(role, host, advertise, port, dataDir, followers, redundancy, vnodes, leaderHost, leaderPort, leaderExplicit,
                secret, token, insecure, new Limits(maxKey, maxValue), segmentBytes, Math.max(2 * segmentBytes, 16L << 20),
                groupCommit, requestTimeout, opTimeout, checkInterval, queueCapacity, cluster, clusterPort, clusterMembers, healAfter, copyRate);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /**
     * Protected mode (SPEC.md section 6) lets a node bind without a secret only here: 127.0.0.0/8
     * written as an IPv4 literal, {@code localhost} or {@code ::1} (in any of its IPv6 spellings,
     * with or without brackets). A name such as {@code 127.example.com} is not loopback, whatever
     * it resolves to today; neither is {@code ::ffff:127.0.0.1} (the documented list names the
     * IPv4 form) nor an address with a zone index. Netty parses the literals ({@link NetUtil}).
     */
    static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) return true;
        if (NetUtil.isValidIpV4Address(host)) return NetUtil.createByteArrayFromIpAddressString(host)[0] == 127;
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (h.indexOf('%') >= 0 || !NetUtil.isValidIpV6Address(h)) return false;
        return Arrays.equals(NetUtil.createByteArrayFromIpAddressString(h), IPV6_LOOPBACK);
    }

    /** ::1 as Netty gives it: sixteen bytes. */
    private static final byte[] IPV6_LOOPBACK = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    /**
     * A secret or token travels in an HTTP header, so it must be printable ASCII without spaces
     * (anything else would be mangled or refused on the wire and never match). The message never
     * repeats the value.
     */
    static void checkCredential(String value, String what) throws UsageException {
        if (value == null) return;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                throw new UsageException(what + " must be printable ASCII without spaces (character " + (i + 1) + " is not)");
            }
        }
    }

    /** HOST:PORT or http://HOST:PORT[/]. */
    static String[] hostPort(String s, String what) throws UsageException {
        String t = s.trim();
        if (t.startsWith("http://")) t = t.substring("http://".length());
        while (t.endsWith("/")) t = t.substring(0, t.length() - 1);
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) throw new UsageException(what + " must be HOST:PORT, got '" + s + "'");
        String host = t.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        int port = parseInt(t.substring(colon + 1), what + " port", 1, 65535);
        return new String[] {host, String.valueOf(port)};
    }

    static int parseInt(String s, String what, int min, int max) throws UsageException {
        try {
            long v = Long.parseLong(s.trim());
            if (v < min || v > max) throw new UsageException(what + " must be between " + min + " and " + max + ", got " + s);
            return (int) v;
        } catch (NumberFormatException e) {
            throw new UsageException(what + " must be a number, got '" + s + "'");
        }
    }

    /** Looks a setting up in precedence order: named option, positional, config file. */
    private record Resolver(Map<String, Object> named, Map<String, String> positional, Map<String, String> env, JsonObject file) {
        String raw(String key) throws ConfigException {
            Object v = named.get(key);
            if (v != null) return v.toString();
            String p = positional.get(key);
            if (p != null) return p;
            String e = ENV_KEYS.containsKey(key) ? env.get(ENV_KEYS.get(key)) : null;
            if (e != null && !e.isEmpty()) return e;
            if (file.containsKey(key)) {
                Object f = file.getValue(key);
                if (f == null) return null;
                if (f instanceof JsonArray arr) {
                    List<String> parts = new ArrayList<>();
                    for (Object x : arr) parts.add(String.valueOf(x));
                    return String.join(",", parts);
                }
                if (f instanceof JsonObject) throw new ConfigException("config key '" + key + "' must not be an object");
                return f.toString();
            }
            return null;
        }

        boolean fromCommandLine(String key) {
            return named.containsKey(key) || positional.containsKey(key);
        }

        String string(String key, String dflt) throws ConfigException {
            String v = raw(key);
            return v == null ? dflt : v;
        }

        int integer(String key, int dflt, int min, int max) throws UsageException, ConfigException {
            String v = raw(key);
            if (v == null) return dflt;
            try {
                return parseInt(v, fromCommandLine(key) ? "--" + kebab(key) : "config key '" + key + "'", min, max);
            } catch (UsageException e) {
                if (fromCommandLine(key)) throw e;
                throw new ConfigException(e.getMessage());
            }
        }

        boolean bool(String key, boolean dflt) throws ConfigException {
            Object n = named.get(key);
            if (n instanceof Boolean b) return b;
            if (file.containsKey(key)) {
                Object f = file.getValue(key);
                if (f instanceof Boolean b) return b;
                throw new ConfigException("config key '" + key + "' must be true or false");
            }
            return dflt;
        }
    }
}
