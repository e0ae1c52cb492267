/**
 * Optional clustering on Hazelcast (SPEC.md section 7): configuration, membership events, the
 * leader lock and the directory of leaders. Only started with {@code --cluster}; without it no
 * Hazelcast class is touched.
 */
package kvstore.cluster;
