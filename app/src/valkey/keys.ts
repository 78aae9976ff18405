/**
 * The Valkey key convention. Every room key carries the room id as a hash tag (`room:{<id>}:…`) and
 * every per-instance key the instance id (`instance:{<id>}:…`), so a script that touches one room's
 * (or one instance's) keys stays in one slot on a clustered Valkey too. Room ids are validated
 * (ids.ts) before they reach these functions; instance ids by the configuration.
 *
 * Each key belongs to the one module that reads and writes it:
 *   room:{id}:seq, room:{id}:history,
 *   room:{id}:history-bytes, room:{id}:events             realtime/room-log.ts   (the room log and its channel)
 *   room:{id}:presence, room:{id}:members                 realtime/presence.ts   (who is in the room)
 *   gomeet:instances, instance:{id}:connections,
 *   instance:{id}:purge-lock                              realtime/presence.ts   (live instances, their connections)
 *   room:{id}:livekit                                     livekit/room-pins.ts   (the room's LiveKit deployment)
 *   room:{id}:lktoken:<deployment>:<digest>               livekit/token-cache.ts (cached LiveKit tokens)
 *   quota:{<user id, base64url of UTF-16>}:ws              realtime/user-quota.ts (a user's message quota window)
 *   instance:{id}:write-probe                             valkey/connections.ts  (proves Valkey accepts writes)
 */

/** `room:{<roomId>}:<name>` */
export function roomKey(roomId: string, name: string): string {
  return `room:{${roomId}}:${name}`;
}

/** `instance:{<instanceId>}:<name>` */
export function instanceKey(instanceId: string, name: string): string {
  return `instance:{${instanceId}}:${name}`;
}
