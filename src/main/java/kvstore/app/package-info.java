/**
 * The jar's entry point: command line, environment and config files ({@link kvstore.app.Config}),
 * exit codes and signals ({@link kvstore.app.Main}), the embedded default and its console
 * ({@link kvstore.app.EmbeddedCluster}), and the command-line client ({@link kvstore.app.Cli}).
 */
package kvstore.app;
