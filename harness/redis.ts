/**
 * Real Redis for tests and the local cluster: single nodes, primary/replica pairs, role changes, and
 * the Sentinel + HAProxy setup that stands in for a managed Valkey cluster.
 */
export { demoteTo, promote, startRedis, startRedisPair, startTlsRedis, waitForReplicaInSync } from "./redis-node";
export type { RedisAddress, RedisNode, RedisPair, TlsRedisServer } from "./redis-node";
export { askSentinels, MASTER_NAME, startSentinelHA } from "./sentinel";
export type { SentinelHA } from "./sentinel";
export { redisCommand, redisCommands, redisInfo, redisPing } from "./redis-client";
