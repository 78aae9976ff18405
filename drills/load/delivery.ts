/**
 * Losses and duplicates, judged per room from what its clients sent and received.
 *
 * A message counts as accepted once anyone saw it: its sender got the echo, or any member received
 * it. Lost: an accepted message that a member of the room (every client stays a member for the
 * whole drill, reconnecting as needed) never received, plus a message its sender could never get
 * accepted. Duplicate: any further delivery of a message a client had already received.
 */
import { messageKey, type DrillClient } from "./ws-client";

/** What the judgement reads of a client. */
export type ClientRecord = Pick<
  DrillClient,
  "id" | "received" | "acks" | "foreign" | "foreignCount" | "resends" | "unacknowledged" | "welcomes"
>;

/** "app-1 (welcome seq 10) → app-3 (since 45, welcome seq 47, recovered)" */
function connections(client: ClientRecord): string {
  return client.welcomes
    .map(
      (w) =>
        `${w.instance} (${w.since === undefined ? "" : `since ${w.since}, `}welcome seq ${w.seq}${w.since === undefined ? "" : w.recovered ? ", recovered" : ", not recovered"})`,
    )
    .join(" → ");
}

export interface DeliveryReport {
  /** Distinct messages accepted. */
  accepted: number;
  /** Distinct messages lost (missing at one member or more, or never accepted). */
  lost: number;
  /** Deliveries beyond the first, over all clients. */
  duplicates: number;
  /** Message frames that were not the room's drill messages. */
  foreign: number;
  /** Messages sent again after a reconnect or an error. */
  resends: number;
  /** A few examples of each problem, for the report. */
  examples: string[];
}

const EXAMPLES = 10;

/** `rooms`: the clients of each room. */
export function deliveryReport(rooms: ReadonlyMap<string, readonly ClientRecord[]>): DeliveryReport {
  const report: DeliveryReport = { accepted: 0, lost: 0, duplicates: 0, foreign: 0, resends: 0, examples: [] };
  const example = (text: string): void => {
    if (report.examples.length < EXAMPLES) report.examples.push(text);
  };
  for (const [room, clients] of rooms) {
    const members = new Set(clients.map((c) => c.id));
    const accepted = new Set<string>();
    for (const client of clients) {
      report.resends += client.resends;
      report.foreign += client.foreignCount;
      for (const text of client.foreign.slice(0, 2)) example(`${client.id} received a foreign frame: ${text}`);
      for (const ack of client.acks) accepted.add(messageKey({ c: client.id, n: ack.n }));
      for (const [key, seqs] of client.received) {
        const sender = key.slice(0, key.lastIndexOf("#"));
        if (!members.has(sender)) {
          report.foreign += seqs.length;
          example(`${client.id} received ${key}, not sent by a member of ${room}`);
          continue;
        }
        accepted.add(key);
        if (seqs.length > 1) {
          report.duplicates += seqs.length - 1;
          example(`${client.id} received ${key} ${seqs.length} times (seqs ${seqs.join(", ")}; its connections: ${connections(client)})`);
        }
      }
    }
    report.accepted += accepted.size;
    const lost = new Set<string>();
    for (const client of clients) {
      for (const key of accepted) {
        if (!client.received.has(key)) {
          if (!lost.has(key)) example(`${client.id} never received ${key} (room ${room}; its connections: ${connections(client)})`);
          lost.add(key);
        }
      }
      for (const message of client.unacknowledged) {
        const key = messageKey(message);
        if (!accepted.has(key)) {
          lost.add(key);
          example(`${key} was sent and never accepted (room ${room})`);
        }
      }
    }
    report.lost += lost.size;
  }
  return report;
}

/** Whether every member has received every accepted message of its room (the state to wait for before judging). */
export function roomsConverged(rooms: ReadonlyMap<string, readonly Pick<ClientRecord, "received">[]>): boolean {
  for (const clients of rooms.values()) {
    const accepted = new Set<string>();
    for (const client of clients) for (const key of client.received.keys()) accepted.add(key);
    for (const client of clients) for (const key of accepted) if (!client.received.has(key)) return false;
  }
  return true;
}
