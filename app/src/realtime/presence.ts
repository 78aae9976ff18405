/**
 * Presence bookkeeping beyond a single join/leave:
 * - the heartbeat: pings every socket (terminating those that did not answer the previous ping),
 *   extends this instance's members' expiry, and records the instance's own heartbeat;
 * - the purge: surviving instances find instances whose heartbeat is older than the presence TTL
 *   and remove their members through the per-instance connection index (announcing each leave);
 * - the participant list, pruned atomically on read.
 * Nothing here enumerates keys: the registry is one sorted set, the index one hash per instance.
 */
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { errorMessage } from "../errors";
import { isValidRoomId } from "../ids";
import { Periodic } from "../periodic";
import { INSTANCES_KEY, instanceConnectionsKey, instancePurgeLockKey, roomKeys } from "../redis/keys";
import type { RedisConnections } from "../redis/connections";
import type { Connection } from "./connection";
import type { Hub } from "./hub";

export interface PresenceOptions {
  instanceId: string;
  heartbeatIntervalMs: number;
  presenceTtlMs: number;
}

export interface Participant {
  connectionId: string;
  user: { id: string; name: string };
  instance: string;
  joinedAt: string;
}

const PURGE_BATCH = 200;

export class PresenceService {
  private readonly heartbeat: Periodic;

  constructor(
    private readonly redis: RedisConnections,
    private readonly hub: Hub,
    private readonly options: PresenceOptions,
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    this.heartbeat = new Periodic(options.heartbeatIntervalMs, () => this.beat());
  }

  /** Clears what a previous process with this instance id left behind, registers the instance, and starts the heartbeat. */
  async start(): Promise<void> {
    await this.purgeIndex(this.options.instanceId);
    await this.redis.run((c) => c.instanceBeat({ instancesKey: INSTANCES_KEY, instanceId: this.options.instanceId }));
    this.heartbeat.start();
  }

  async stop(): Promise<void> {
    await this.heartbeat.stop();
  }

  /** Removes this instance from the registry (after its connections have left). */
  async deregister(): Promise<void> {
    await this.redis.run((c) => c.zRem(INSTANCES_KEY, this.options.instanceId));
  }

  async participants(roomId: string): Promise<Participant[]> {
    const entries = await this.redis.run((c) => c.presenceList({ keys: roomKeys(roomId) }));
    return entries.map((entry) => ({
      connectionId: entry.connectionId,
      user: JSON.parse(entry.userJson) as { id: string; name: string },
      instance: entry.instance,
      joinedAt: new Date(entry.joinedAt).toISOString(),
    }));
  }

  private async beat(): Promise<void> {
    const byRoom = this.hub.connectionsByRoom();
    this.pingSockets(byRoom);
    try {
      await this.refreshMembers(byRoom);
      const registered = await this.redis.run((c) => c.instanceBeat({ instancesKey: INSTANCES_KEY, instanceId: this.options.instanceId }));
      if (registered === 1) await this.rewriteIndex(byRoom);
      await this.purgeStaleInstances();
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, "presence heartbeat failed");
    }
  }

  private pingSockets(byRoom: Map<string, Connection[]>): void {
    for (const connections of byRoom.values()) {
      for (const connection of connections) {
        if (!connection.alive) {
          this.metrics.heartbeatTimeouts.inc();
          connection.ws.terminate();
          continue;
        }
        connection.alive = false;
        connection.ws.ping();
      }
    }
  }

  private async refreshMembers(byRoom: Map<string, Connection[]>): Promise<void> {
    const ttl = { memberMs: this.options.presenceTtlMs, keyMs: this.options.presenceTtlMs * 2 };
    const refreshes: Promise<number>[] = [];
    for (const [roomId, connections] of byRoom) {
      const members = connections.filter((c) => c.presenceSent && c.state !== "closed").map((c) => ({ connectionId: c.id, userJson: c.userJson }));
      if (members.length === 0) continue;
      refreshes.push(this.redis.run((c) => c.presenceRefresh({ keys: roomKeys(roomId), instanceId: this.options.instanceId, ttl, members })));
    }
    const readded = (await Promise.all(refreshes)).reduce((sum, n) => sum + n, 0);
    if (readded > 0) this.logger.warn({ readded }, "members purged while this instance was unreachable were added back");
  }

  /** The registry had forgotten us (we were purged as dead): write the connection index again. */
  private async rewriteIndex(byRoom: Map<string, Connection[]>): Promise<void> {
    const fields: Record<string, string> = {};
    for (const [roomId, connections] of byRoom) for (const connection of connections) fields[connection.id] = roomId;
    if (Object.keys(fields).length > 0) await this.redis.run((c) => c.hSet(instanceConnectionsKey(this.options.instanceId), fields));
  }

  private async purgeStaleInstances(): Promise<void> {
    const stale = await this.redis.run((c) => c.staleInstances({ instancesKey: INSTANCES_KEY, ttlMs: this.options.presenceTtlMs }));
    for (const instanceId of stale) {
      if (instanceId === this.options.instanceId) continue;
      const lock = await this.redis.run((c) =>
        c.set(instancePurgeLockKey(instanceId), this.options.instanceId, { condition: "NX", expiration: { type: "PX", value: this.options.presenceTtlMs * 2 } }),
      );
      if (lock === null) continue;
      const purged = await this.purgeIndex(instanceId);
      await this.redis.run((c) => c.forgetStaleInstance({ instancesKey: INSTANCES_KEY, instanceId, ttlMs: this.options.presenceTtlMs }));
      this.logger.info({ deadInstance: instanceId, purged }, "purged the members of a dead instance");
    }
  }

  /** Removes every member listed in an instance's connection index (announcing each leave); returns how many were present. */
  private async purgeIndex(instanceId: string): Promise<number> {
    const indexKey = instanceConnectionsKey(instanceId);
    let purged = 0;
    let cursor = "0";
    do {
      const page = await this.redis.run((c) => c.hScan(indexKey, cursor, { COUNT: PURGE_BATCH }));
      cursor = String(page.cursor);
      const removals = page.entries.map(async ({ field, value }) => {
        const roomId = String(value);
        if (!isValidRoomId(roomId)) return 0;
        return this.redis.run((c) => c.presenceLeave({ keys: roomKeys(roomId), connectionId: String(field) }));
      });
      purged += (await Promise.all(removals)).reduce((sum, n) => sum + n, 0);
      const fields = page.entries.map(({ field }) => String(field));
      if (fields.length > 0) await this.redis.run((c) => c.hDel(indexKey, fields));
    } while (cursor !== "0");
    if (purged > 0) this.metrics.presencePurged.inc(purged);
    return purged;
  }
}
