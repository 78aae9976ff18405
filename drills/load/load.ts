/**
 * The load every drill runs through the load balancer while it breaks something: WebSocket
 * clients in several rooms sending sequenced messages, HTTP streams reading and writing, and a
 * watch on every instance's /readyz. finish() stops it, lets the rooms converge, and judges what
 * the clients saw.
 */
import { addMember } from "../../harness/app-client";
import { signUserToken } from "../../harness/tokens";
import type { DrillContext } from "../types";
import { seedUnreadRooms } from "./database";
import { deliveryReport, roomsConverged, type DeliveryReport } from "./delivery";
import { clientOutcomes, outageEpisodes, requestOutcomes, type Episode } from "./episodes";
import { HttpLoad, type HttpStream, type RequestKind, type RequestSample } from "./http-load";
import { ReadinessWatch } from "./readiness-watch";
import { loadSeries, type LoadSeries } from "./time-series";
import { DrillClient } from "./ws-client";

export interface LoadOptions {
  /** Prefix of room names and user ids (the drill's name). */
  name: string;
  /** HTTP streams; default one stream of each kind through the load balancer. */
  streams?: (lb: string) => HttpStream[];
  /** Rooms seeded for `read` requests (default 800). */
  unreadRooms?: number;
}

export interface LoadObservation {
  delivery: DeliveryReport;
  /** Outage episodes of the WebSocket clients (messages not accepted / not delivered). */
  wsEpisodes: Episode[];
  /** Outage episodes of the HTTP streams. */
  httpEpisodes: Episode[];
  samples: RequestSample[];
  failedRequests: RequestSample[];
  /** Messages acknowledged, connections opened. */
  acknowledged: number;
  connections: number;
  /** Clients whose last message was never acknowledged even after the drain. */
  undrained: string[];
  converged: boolean;
  startedAt: number;
  endedAt: number;
  /** Delivered and failed operations over time (the drill timeline plots it). */
  series: LoadSeries;
}

const ACK_TIMEOUT_MS = 3000;
const RESEND_GRACE_MS = 300;
const HTTP_PAUSE_MS = 20;
const HTTP_TIMEOUT_MS = 10_000;
/** Stable: every client and stream has succeeded, and not failed, within this window. */
const STABLE_WINDOW_MS = 1000;

export const ALL_KINDS: readonly RequestKind[] = ["read", "write", "token", "participants"];

export function lbStreams(lb: string, kinds: readonly RequestKind[] = ALL_KINDS): HttpStream[] {
  return kinds.map((kind) => ({ name: `${kind}@lb`, kind, baseUrl: lb }));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class DrillLoad {
  readonly readiness: ReadinessWatch;
  readonly startedAt = Date.now();
  private finished: LoadObservation | undefined;

  private constructor(
    readonly rooms: ReadonlyMap<string, DrillClient[]>,
    readonly http: HttpLoad,
    readonly streams: HttpStream[],
    readiness: ReadinessWatch,
  ) {
    this.readiness = readiness;
  }

  /** Creates the rooms, seeds unread rooms, connects every client, then starts sending and requesting. */
  static async start(ctx: DrillContext, options: LoadOptions): Promise<DrillLoad> {
    const { cluster, scale } = ctx;
    const { endpoint, replica } = cluster.backing.postgres;
    const httpToken = await signUserToken(cluster.authSecret, `${options.name}-http`);
    const roomIds: string[] = [];
    for (let r = 0; r < scale.rooms; r++) {
      const response = await fetch(`${cluster.url}/rooms`, {
        method: "POST",
        headers: { authorization: `Bearer ${httpToken}`, "content-type": "application/json" },
        body: JSON.stringify({ name: `${options.name} ${r + 1}` }),
      });
      const body = (await response.json()) as { id?: string };
      if (response.status !== 201 || body.id === undefined)
        throw new Error(`creating a drill room: POST /rooms answered ${response.status} ${JSON.stringify(body)}`);
      roomIds.push(body.id);
    }
    const unread = await seedUnreadRooms(endpoint.url, replica.url, options.unreadRooms ?? 800, `${options.name}-http`);
    const rooms = new Map<string, DrillClient[]>();
    const clients: DrillClient[] = [];
    for (const [r, room] of roomIds.entries()) {
      const members: DrillClient[] = [];
      for (let c = 0; c < scale.clientsPerRoom; c++) {
        const clientId = `${options.name}-r${r + 1}-c${c + 1}`;
        // Only members may join: the rooms' owner (the HTTP user) adds each client.
        await addMember(cluster.url, httpToken, room, clientId);
        const client = new DrillClient({
          baseUrl: cluster.url,
          room,
          token: await signUserToken(cluster.authSecret, clientId),
          clientId,
          sendIntervalMs: scale.sendIntervalMs,
          ackTimeoutMs: ACK_TIMEOUT_MS,
          resendGraceMs: RESEND_GRACE_MS,
        });
        members.push(client);
        clients.push(client);
      }
      rooms.set(room, members);
    }
    await Promise.all(clients.map((client) => client.connect()));
    const streams = (options.streams ?? ((lb: string) => lbStreams(lb)))(cluster.url);
    const http = new HttpLoad({
      streams,
      token: httpToken,
      rooms: roomIds,
      unreadRooms: unread,
      pauseMs: HTTP_PAUSE_MS,
      timeoutMs: HTTP_TIMEOUT_MS,
    });
    const readiness = new ReadinessWatch(cluster.instances);
    readiness.start();
    http.start();
    for (const client of clients) client.startSending();
    return new DrillLoad(rooms, http, streams, readiness);
  }

  get clients(): DrillClient[] {
    return [...this.rooms.values()].flat();
  }

  /** Clients whose current connection is on `instanceId`. */
  clientsOn(instanceId: string): DrillClient[] {
    return this.clients.filter((client) => client.instance === instanceId);
  }

  /**
   * Waits until every client and HTTP stream (except `ignore` kinds) has been served without a
   * failure for STABLE_WINDOW_MS, after `after`; resolves with that time, or undefined after `timeoutMs`.
   */
  async waitStable(opts: { after: number; timeoutMs: number; ignore?: readonly RequestKind[] }): Promise<number | undefined> {
    const deadline = Date.now() + opts.timeoutMs;
    const ignored = new Set(opts.ignore ?? []);
    while (Date.now() < deadline) {
      const now = Date.now();
      const windowStart = Math.max(opts.after, now - STABLE_WINDOW_MS);
      const clientsOk = this.clients.every((client) => {
        const lastFailure = client.failures[client.failures.length - 1]?.at ?? -Infinity;
        const lastAck = client.acks[client.acks.length - 1]?.ackAt ?? -Infinity;
        return client.isLive && lastFailure < windowStart && lastAck >= windowStart;
      });
      const streamsOk = this.streams
        .filter((stream) => !ignored.has(stream.kind))
        .every((stream) => {
          const recent = this.http.samples.filter((s) => s.stream === stream.name && s.end >= windowStart);
          return recent.length > 0 && recent.every((s) => s.ok);
        });
      if (clientsOk && streamsOk && now - opts.after >= STABLE_WINDOW_MS) return now;
      await sleep(50);
    }
    return undefined;
  }

  /** Stops the load, drains the last messages, waits for the rooms to converge (up to 5 s) and judges. */
  async finish(): Promise<LoadObservation> {
    if (this.finished !== undefined) return this.finished;
    const clients = this.clients;
    await this.http.stop();
    const drained = await Promise.all(clients.map((client) => client.stopSending(10_000)));
    const convergeDeadline = Date.now() + 5000;
    while (!roomsConverged(this.rooms) && Date.now() < convergeDeadline) await sleep(50);
    const converged = roomsConverged(this.rooms);
    const endedAt = Date.now();
    await this.readiness.stop();
    await Promise.all(clients.map((client) => client.close()));
    const wsEpisodes = clients.flatMap((client) => outageEpisodes(client.id, clientOutcomes(client), this.startedAt));
    const httpEpisodes = this.streams.flatMap((stream) =>
      outageEpisodes(stream.name, requestOutcomes(this.http.samples.filter((s) => s.stream === stream.name)), this.startedAt),
    );
    this.finished = {
      delivery: deliveryReport(this.rooms),
      wsEpisodes,
      httpEpisodes,
      samples: this.http.samples,
      failedRequests: this.http.samples.filter((s) => !s.ok),
      acknowledged: clients.reduce((sum, c) => sum + c.acks.length, 0),
      connections: clients.reduce((sum, c) => sum + c.instances.length, 0),
      undrained: clients.filter((_, i) => !drained[i]).map((c) => c.id),
      converged,
      startedAt: this.startedAt,
      endedAt,
      series: loadSeries(clients, this.http.samples, this.startedAt, endedAt),
    };
    return this.finished;
  }

  /** Stops everything without judging (a drill that failed before finish()). */
  async abort(): Promise<void> {
    await this.http.stop();
    await this.readiness.stop();
    await Promise.all(this.clients.map((client) => client.close()));
  }
}
