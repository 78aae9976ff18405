/**
 * The Valkey key layout. Every room key carries the room id as a hash tag (`room:{<id>}:…`), so a
 * script that touches one room's keys stays in one slot on a clustered Valkey too. Room ids are
 * validated (ids.ts) before they reach these functions; instance ids by the configuration.
 */
export interface RoomKeys {
  /** INCR counter: the room's last message sequence number. */
  seq: string;
  /** Sorted set: score = seq, member = the serialised message frame. Bounded by length and age. */
  history: string;
  /** Sorted set: member = connection id, score = expiry (ms, Valkey clock). */
  presence: string;
  /** Hash: connection id → "<instance>|<joinedAtMs>|<user JSON>". */
  members: string;
  /** String: name of the LiveKit deployment the room is pinned to. */
  livekitPin: string;
  /** Pub/Sub channel carrying the room's message and presence frames. */
  channel: string;
}

export function roomKeys(roomId: string): RoomKeys {
  const base = `room:{${roomId}}:`;
  return {
    seq: `${base}seq`,
    history: `${base}history`,
    presence: `${base}presence`,
    members: `${base}members`,
    livekitPin: `${base}livekit`,
    channel: `${base}events`,
  };
}

/** Cached LiveKit token for one deployment + room + identity/grants digest. */
export function tokenCacheKey(roomId: string, datacenter: string, digest: string): string {
  return `room:{${roomId}}:lktoken:${datacenter}:${digest}`;
}

/** Sorted set of live instances: member = instance id, score = last heartbeat (ms, Valkey clock). */
export const INSTANCES_KEY = "gomeet:instances";

/** Hash: connection id → room id, for every connection the instance holds (used to purge a dead instance). */
export function instanceConnectionsKey(instanceId: string): string {
  return `instance:{${instanceId}}:connections`;
}

/** Short lock so that only one survivor purges a dead instance at a time. */
export function instancePurgeLockKey(instanceId: string): string {
  return `instance:{${instanceId}}:purge-lock`;
}
