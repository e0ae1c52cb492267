/**
 * What both roles share as a running node: its settings ({@link kvstore.node.NodeSettings}),
 * resolved by {@code kvstore.app.Config}. It sits above http, storage, queue and cluster and
 * below the two roles; it never reaches into a role.
 */
package kvstore.node;
