package kvstore.app;

/** The text of {@code help}: every role, verb and option (SPEC.md sections 1, 9, 10 and 11). */
final class Usage {
    private Usage() {}

    static final String TEXT = """
            usage:
              java -jar kvstore.jar [options]                                  embedded default: a leader on 16200 and
                                                                               3 followers on 16201-16203, redundancy 2
              java -jar kvstore.jar leader [port] [followers] [redundancy]     a leader (defaults 16200 1 1)
              java -jar kvstore.jar follower [follower_port] [leader_port]     a follower (defaults 16201 16200)
              java -jar kvstore.jar <role> --conf conf/<file>.json             any role from a JSON config file
              java -jar kvstore.jar help                                       this text

            the command-line client: java -jar kvstore.jar VERB ... [--leader HOST:PORT] (default 127.0.0.1:16200)
              get [-v] KEY                       print the value; -v: its version on stderr ("version V")
              put KEY VALUE [--if-version V]     write; --if-version: only if the key's version is V (0: absent)
              del KEY [--if-version V]           delete; --if-version: only if the key's version is V
              status                             print the leader's /api/status JSON
              members [--json]                   list the members, the evicted and the rebalance (--json: as JSON)
              members evict HOST:PORT            evict a follower now (needs KVSTORE_SECRET when the leader has one)
              members drain HOST:PORT            move a follower's keys to the others, then evict it
              members capacity N                 the most members the leader accepts
              txn FILE                           run a transaction (JSON; FILE - reads stdin), print the answer

            options (they override the config file and the positional arguments):
              --port N               port to listen on
              --host ADDR            address to bind (default 127.0.0.1; another needs --secret or --insecure)
              --advertise ADDR       address others use to reach this node (default: --host; required
                                     when --host is a wildcard such as 0.0.0.0)
              --followers N          leader: how many followers must register before it serves
              --redundancy N         leader: replicas per key (cut to --followers)
              --vnodes N             leader: points per follower on the hash ring (default 1, the seed's)
              --leader HOST:PORT     follower: the leader's address (http://HOST:PORT also works);
                                     client verbs: the leader to talk to (default 127.0.0.1:16200);
                                     besides it they take only --if-version, -v and --json as above
                                     (secret and token: KVSTORE_SECRET, KVSTORE_TOKEN); -- ends the
                                     options, for a key that starts with -- (or is -v)
              --data-dir DIR         where the log lives (default data/leader-PORT or data/follower-PORT;
                                     embedded: the parent of those, default data)
              --secret S             cluster secret, sent as X-KV-Secret (or env KVSTORE_SECRET)
              --client-token T       require Authorization: Bearer T from clients (or env KVSTORE_TOKEN)
              --insecure             allow binding a non-loopback address without a secret
              --heal-after S         leader: evict a follower silent for S seconds (default 30, 0: never;
                                     or env KVSTORE_HEAL_AFTER)
              --copy-rate N          follower: MiB/s a joining follower copies at (default 64, 0: no limit;
                                     at most 0.5 while its source serves clients)
              --max-key-bytes N      key limit in UTF-8 bytes (default 1024)
              --max-value-bytes N    value limit in UTF-8 bytes (default 1024)
              --no-group-commit      one fsync per log record (for benchmarks only)
              --cluster              join a Vert.x cluster (Hazelcast)
              --cluster-port N       Hazelcast's port (default 5701)
              --cluster-members L    Hazelcast members, HOST:PORT,HOST:PORT,...
              --conf FILE            read options from a JSON file (keys are the option names in camelCase)

            embedded console: a (add a follower, capacity + 1), d PORT (drain it, then stop it),
                              e PORT (evict it), k PORT (kill a follower), r PORT (restart it),
                              l (list followers), q (quit)
            exit codes: 0 ok, 1 runtime error (port in use, bad data directory or config), 2 bad usage,
                        client verbs: 1 server error (its body on stderr), 3 leader unreachable or no answer
            """;
}
