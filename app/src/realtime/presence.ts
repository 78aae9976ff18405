/**
 * Presence: who is in each room, across instances — the one module that reads and writes the room's
 * presence keys (room:{id}:presence, room:{id}:members), the instance registry (gomeet:instances)
 * and each instance's connection index (instance:{id}:connections).
 *
 * - join / leave: one atomic script each, announcing the member on the room's channel;
 * - the heartbeat (beat): extends this instance's members' expiry, records the instance's own
 *   heartbeat, and purges the members of instances whose heartbeat is older than the presence TTL
 *   through their connection index (announcing each leave);
 * - the participant list, pruned atomically on read.
 * Nothing here enumerates keys: the registry is one sorted set, the index one hash per instance.
 */
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { errorMessage } from "../errors";
import { isValidRoomId } from "../ids";
import { instanceKey, roomKey } from "../valkey/keys";
import type { ValkeyConnections } from "../valkey/connections";
import type { JoinReply, PRESENCE_SCRIPTS, PresenceKeys, PresenceTtl } from "./presence-scripts";
import { roomLogKeys } from "./room-log";

export function presenceKeys(roomId: string): PresenceKeys {
  return { presence: roomKey(roomId, "presence"), members: roomKey(roomId, "members"), channel: roomLogKeys(roomId).channel };
}

/** Sorted set of live instances: member = instance id, score = last heartbeat (ms, Valkey clock). */
export const INSTANCES_KEY = "gomeet:instances";

/** Hash: connection id → room id, for every connection the instance holds (used to purge a dead instance). */
export function instanceConnectionsKey(instanceId: string): string {
  return instanceKey(instanceId, "connections");
}

/** Short lock so that only one survivor purges a dead instance at a time. */
export function instancePurgeLockKey(instanceId: string): string {
  return instanceKey(instanceId, "purge-lock");
}

export interface PresenceOptions {
  instanceId: string;
  presenceTtlMs: number;
}

export interface Participant {
  connectionId: string;
  user: { id: string; name: string };
  instance: string;
  joinedAt: string;
}

/** A member joining or joined through this instance. */
export interface LocalMember {
  roomId: string;
  connectionId: string;
  userJson: string;
}

interface LocalEntry extends LocalMember {
  /**
   * Set when its join script is sent; the heartbeat refreshes only such members (refreshing one
   * whose join is not sent yet would announce it twice).
   */
  announced: boolean;
}

const PURGE_BATCH = 200;

export class PresenceService {
  /** This instance's members by connection id, from the start of their join until their leave. */
  private readonly local = new Map<string, LocalEntry>();
  /**
   * Connections whose leave has begun and is not finished: a join of one of them (one that was still
   * waiting when its connection closed) announces nothing and adds nothing to `local`, or the
   * heartbeat would add the member back to the room after its leave, for good.
   */
  private readonly leaving = new Set<string>();
  private readonly indexKey: string;
  private readonly ttl: PresenceTtl;

  constructor(
    private readonly valkey: ValkeyConnections<typeof PRESENCE_SCRIPTS>,
    private readonly options: PresenceOptions,
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    this.indexKey = instanceConnectionsKey(options.instanceId);
    this.ttl = { memberMs: options.presenceTtlMs, keyMs: options.presenceTtlMs * 2 };
  }

  /** Clears what a previous process with this instance id left behind, and registers the instance. */
  async start(): Promise<void> {
    await this.purgeIndex(this.options.instanceId);
    await this.valkey.run((c) => c.instanceBeat({ instancesKey: INSTANCES_KEY, instanceId: this.options.instanceId }));
  }

  /**
   * Indexes the member for the dead-instance purge, then adds it to the room's presence, publishes
   * its join and reads the room's seq plus the first replay batch after `replay.since`, atomically.
   * Resolves undefined when the member left before or meanwhile (nothing is announced then). Throws
   * when Valkey is unavailable.
   */
  async join(member: LocalMember, replay: { since: number; batch: number; seqFloor?: number }): Promise<JoinReply | undefined> {
    if (this.leaving.has(member.connectionId)) return undefined;
    const entry: LocalEntry = { ...member, announced: false };
    this.local.set(member.connectionId, entry);
    await this.valkey.run((c) => c.hSet(this.indexKey, member.connectionId, member.roomId));
    if (this.local.get(member.connectionId) !== entry) return undefined;
    return this.valkey.run((c) => {
      // Set synchronously with the send: heartbeat refreshes issued from now on queue behind the join.
      entry.announced = true;
      return c.presenceJoin({
        keys: presenceKeys(member.roomId),
        log: roomLogKeys(member.roomId),
        member: { connectionId: member.connectionId, instanceId: this.options.instanceId, userJson: member.userJson },
        ttl: this.ttl,
        replay,
      });
    });
  }

  /**
   * Removes the member: at once from this instance's heartbeat, then — once its join has settled
   * (removing presence before the join script ran would leave a ghost) — from the room's presence
   * (announcing its leave) and from the index. If Valkey is unavailable the member expires on its
   * own (PRESENCE_TTL_SECONDS) and its index entry is purged with it.
   * `joinSettled` must settle after any join of this member has: a join that has not begun yet when
   * the leave starts announces nothing.
   */
  async leave(member: LocalMember, joinSettled: Promise<unknown>): Promise<void> {
    this.leaving.add(member.connectionId);
    this.local.delete(member.connectionId);
    try {
      await joinSettled.catch(() => undefined);
      // Whatever the join did meanwhile, the heartbeat must not refresh this member any more.
      this.local.delete(member.connectionId);
      await this.valkey.run((c) => c.presenceLeave({ keys: presenceKeys(member.roomId), connectionId: member.connectionId }));
      await this.valkey.run((c) => c.hDel(this.indexKey, member.connectionId));
    } catch (error) {
      this.logger.warn({ connection: member.connectionId, err: errorMessage(error) }, "presence leave failed; member will expire");
    } finally {
      this.leaving.delete(member.connectionId);
    }
  }

  /** Removes this instance from the registry (after its connections have left). */
  async deregister(): Promise<void> {
    await this.valkey.run((c) => c.zRem(INSTANCES_KEY, this.options.instanceId));
  }

  async participants(roomId: string): Promise<Participant[]> {
    const entries = await this.valkey.run((c) => c.presenceList({ keys: presenceKeys(roomId) }));
    return entries.map((entry) => ({
      connectionId: entry.connectionId,
      user: JSON.parse(entry.userJson) as { id: string; name: string },
      instance: entry.instance,
      joinedAt: new Date(entry.joinedAt).toISOString(),
    }));
  }

  /**
   * One heartbeat: refreshes this instance's members, records the instance's heartbeat (writing the
   * index again if the registry had forgotten it), and purges dead instances. Never throws: a
   * failure is logged and the next beat tries again.
   */
  async beat(): Promise<void> {
    const byRoom = this.localByRoom();
    try {
      await this.refreshMembers(byRoom);
      const registered = await this.valkey.run((c) => c.instanceBeat({ instancesKey: INSTANCES_KEY, instanceId: this.options.instanceId }));
      if (registered === 1) await this.rewriteIndex(byRoom);
      await this.purgeStaleInstances();
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, "presence heartbeat failed");
    }
  }

  private localByRoom(): Map<string, LocalEntry[]> {
    const byRoom = new Map<string, LocalEntry[]>();
    for (const entry of this.local.values()) {
      const room = byRoom.get(entry.roomId);
      if (room === undefined) byRoom.set(entry.roomId, [entry]);
      else room.push(entry);
    }
    return byRoom;
  }

  private async refreshMembers(byRoom: Map<string, LocalEntry[]>): Promise<void> {
    const refreshes: Promise<number>[] = [];
    for (const [roomId, entries] of byRoom) {
      const members = entries
        .filter((entry) => entry.announced)
        .map((entry) => ({ connectionId: entry.connectionId, userJson: entry.userJson }));
      if (members.length === 0) continue;
      refreshes.push(
        this.valkey.run((c) =>
          c.presenceRefresh({ keys: presenceKeys(roomId), instanceId: this.options.instanceId, ttl: this.ttl, members }),
        ),
      );
    }
    const readded = (await Promise.all(refreshes)).reduce((sum, n) => sum + n, 0);
    if (readded > 0) this.logger.warn({ readded }, "members purged while this instance was unreachable were added back");
  }

  /** The registry had forgotten us (we were purged as dead): write the connection index again. */
  private async rewriteIndex(byRoom: Map<string, LocalEntry[]>): Promise<void> {
    const fields: Record<string, string> = {};
    for (const [roomId, entries] of byRoom) for (const entry of entries) fields[entry.connectionId] = roomId;
    if (Object.keys(fields).length > 0) await this.valkey.run((c) => c.hSet(this.indexKey, fields));
  }

  private async purgeStaleInstances(): Promise<void> {
    const stale = await this.valkey.run((c) => c.staleInstances({ instancesKey: INSTANCES_KEY, ttlMs: this.options.presenceTtlMs }));
    for (const instanceId of stale) {
      if (instanceId === this.options.instanceId) continue;
      const lock = await this.valkey.run((c) =>
        c.set(instancePurgeLockKey(instanceId), this.options.instanceId, {
          condition: "NX",
          expiration: { type: "PX", value: this.options.presenceTtlMs * 2 },
        }),
      );
      if (lock === null) continue;
      const purged = await this.purgeIndex(instanceId);
      await this.valkey.run((c) => c.forgetStaleInstance({ instancesKey: INSTANCES_KEY, instanceId, ttlMs: this.options.presenceTtlMs }));
      this.logger.info({ deadInstance: instanceId, purged }, "purged the members of a dead instance");
    }
  }

  /** Removes every member listed in an instance's connection index (announcing each leave); returns how many were present. */
  private async purgeIndex(instanceId: string): Promise<number> {
    const indexKey = instanceConnectionsKey(instanceId);
    let purged = 0;
    let cursor = "0";
    do {
      const page = await this.valkey.run((c) => c.hScan(indexKey, cursor, { COUNT: PURGE_BATCH }));
      cursor = String(page.cursor);
      const removals = page.entries.map(async ({ field, value }) => {
        const roomId = String(value);
        if (!isValidRoomId(roomId)) return 0;
        return this.valkey.run((c) => c.presenceLeave({ keys: presenceKeys(roomId), connectionId: String(field) }));
      });
      purged += (await Promise.all(removals)).reduce((sum, n) => sum + n, 0);
      const fields = page.entries.map(({ field }) => String(field));
      if (fields.length > 0) await this.valkey.run((c) => c.hDel(indexKey, fields));
    } while (cursor !== "0");
    if (purged > 0) this.metrics.presencePurged.inc(purged);
    return purged;
  }
}
