/**
 * Connections: ramp to N concurrent GoMeet WebSockets spread over the three instances (rooms of a
 * meeting's size), then hold them.
 *
 * - Resident memory per connection: the growth of the instances' summed RSS from half of the
 *   connections (settled) to all of them (at the end of the hold), over the connections added; also
 *   Valkey's used_memory per connection (presence entries and the connection index).
 * - Heartbeat cost: CPU of every GoMeet server process over the hold, minus what the same
 *   processes use idle with no connections (health checks, role checks) over the same time, per
 *   heartbeat round (rounds counted from the app's registry of live instances in Valkey).
 */
import fs from "node:fs";
import { redisInfo } from "../harness/redis";
import { createClient } from "redis";
import { INSTANCES_KEY } from "../app/src/realtime/presence";
import { rssBytes, sampleCpu, cpuBetween } from "./proc-stats";
import { log, sleep } from "./progress";
import { addRoomMembers, createRooms } from "./rooms";
import type { BenchSystems } from "./systems";
import { startWorkers } from "./workers";
import type { ConnectionSpec, OpenReply } from "./worker-protocol";

export interface ConnectionsPlan {
  connections: number;
  roomSize: number;
  workers: number;
  concurrencyPerWorker: number;
  openTimeoutMs: number;
  /** Idle CPU of the servers with no connections is measured over this long. */
  baselineMs: number;
  /** Pause between the end of the ramp and the hold (joins' presence frames, garbage collection). */
  settleMs: number;
  /** The connections are held this long (covering at least two heartbeat rounds). */
  holdMs: number;
  /** How often the heartbeat registry is polled. */
  sampleIntervalMs: number;
  /** The app's HEARTBEAT_INTERVAL_MS. */
  heartbeatIntervalMs: number;
}

export interface ConnectionsResult {
  target: number;
  held: number;
  /** What the instances' gomeet_ws_connections gauges add up to at the end of the hold. */
  heldByServerMetrics: number;
  failed: number;
  errors: string[];
  /** Time spent opening connections (both halves, not the pause between them). */
  rampSeconds: number;
  connectionsPerSecond: number;
  /** Resident memory the instances grew by per connection, from half of the connections to all of them. */
  kbPerConnection: number;
  /** Resident memory of each instance with no connections, with half of them, and with all of them. */
  rssMbBefore: number[];
  rssMbHalf: number[];
  rssMbAfter: number[];
  valkeyBytesPerConnection: number;
  heartbeat: {
    intervalMs: number;
    /** Heartbeat rounds seen per instance during the hold. */
    rounds: number[];
    /** CPU (all GoMeet servers, Valkey included) of one round over every connection. */
    cpuMsPerRound: number;
    /** The same per connection. */
    cpuUsPerConnection: number;
    /** Share of one core the heartbeat takes at the configured interval. */
    corePercentAtInterval: number;
  };
  openFilesLimit: number;
}

/** The soft limit on open files of this process (inherited by every process it starts). */
export function openFilesLimit(): number {
  const line = fs
    .readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const soft = Number(line?.split(/\s+/)[3]);
  return Number.isFinite(soft) ? soft : Number.NaN;
}

async function connectionsOnServers(urls: readonly string[]): Promise<number> {
  let total = 0;
  for (const url of urls) {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith("gomeet_ws_connections"));
    total += Number(line?.split(" ").pop() ?? Number.NaN);
  }
  return total;
}

/**
 * Counts each instance's heartbeat rounds over `durationMs`: every round re-scores the instance in
 * the app's registry of live instances (a sorted set in Valkey, score = time of its last beat), so
 * a changed score is a round. One persistent connection polls it, during the idle baseline too, so
 * its own small cost is in both measurements.
 */
async function countRounds(valkeyUrl: string, instanceIds: readonly string[], durationMs: number, pollMs: number): Promise<number[]> {
  const client = createClient({ url: valkeyUrl, RESP: 2 });
  client.on("error", (error: Error) => log(`connections: heartbeat probe: ${error.message}`));
  await client.connect();
  try {
    const scores = async (): Promise<Array<number | null>> => Promise.all(instanceIds.map((id) => client.zScore(INSTANCES_KEY, id)));
    const rounds = instanceIds.map(() => 0);
    let last = await scores();
    const end = performance.now() + durationMs;
    while (performance.now() < end) {
      await sleep(pollMs);
      const current = await scores();
      current.forEach((score, i) => {
        if (score !== null && score !== last[i]) rounds[i] = (rounds[i] as number) + 1;
      });
      last = current;
    }
    return rounds;
  } finally {
    client.destroy();
  }
}

export async function runConnections(systems: BenchSystems, plan: ConnectionsPlan): Promise<ConnectionsResult> {
  const { gomeet } = systems;
  const instances = gomeet.instances.map((i) => ({ name: i.name, pid: i.process.pid }));
  const instanceIds = gomeet.instances.map((i) => i.name);
  const roomCount = Math.ceil(plan.connections / plan.roomSize);
  log(`connections: creating ${roomCount} rooms of ${plan.roomSize}`);
  const rooms = await createRooms(gomeet.endpoints[0] as string, roomCount, "conn");
  // Only members join: connection n (`conn-n`) is member n mod roomSize of room n / roomSize.
  await addRoomMembers(gomeet.endpoints[0] as string, rooms, plan.roomSize, (r, j) => `conn-${r * plan.roomSize + j}`);

  log(`connections: idle CPU with no connections over ${plan.baselineMs / 1000} s`);
  const idleBefore = sampleCpu(gomeet.servers);
  const idleStart = performance.now();
  await countRounds(gomeet.valkey.url, instanceIds, plan.baselineMs, plan.sampleIntervalMs);
  const idle = cpuBetween(idleBefore, sampleCpu(gomeet.servers));
  const idleSeconds = (performance.now() - idleStart) / 1000;
  const idlePerSecond = idle.total / idleSeconds;
  const rssBefore = instances.map(rssBytes);
  const valkeyBefore = Number((await redisInfo(systems.valkey, "memory")).used_memory);

  const specs: ConnectionSpec[][] = Array.from({ length: plan.workers }, () => []);
  for (let n = 0; n < plan.connections; n++) {
    const room = Math.floor(n / plan.roomSize);
    (specs[room % plan.workers] as ConnectionSpec[]).push({
      server: gomeet.endpoints[n % gomeet.endpoints.length] as string,
      room: rooms[room] as string,
      user: `conn-${n}`,
    });
  }
  const workers = await startWorkers(plan.workers, systems.jwtSecret, "conn-client");
  try {
    // Two halves: memory per connection is the growth from the first half to the whole, both
    // measured settled, so start-up garbage and the heap's first growth do not blur it.
    const halves = specs.map((list) => [list.slice(0, Math.floor(list.length / 2)), list.slice(Math.floor(list.length / 2))] as const);
    const openHalf = async (half: 0 | 1): Promise<OpenReply[]> =>
      Promise.all(
        workers.map((worker, w) =>
          worker.open({
            system: "gomeet",
            connections: [...(halves[w] as readonly [ConnectionSpec[], ConnectionSpec[]])[half]],
            concurrency: plan.concurrencyPerWorker,
            timeoutMs: plan.openTimeoutMs,
          }),
        ),
      );
    const openCount = async (): Promise<number> => (await Promise.all(workers.map((w) => w.counts()))).reduce((sum, c) => sum + c.open, 0);

    log(
      `connections: opening ${plan.connections} WebSockets over ${gomeet.endpoints.length} instances from ${plan.workers} client processes, in two halves`,
    );
    const rampStart = performance.now();
    const first = await openHalf(0);
    const firstSeconds = (performance.now() - rampStart) / 1000;
    await sleep(plan.settleMs);
    const rssHalf = instances.map(rssBytes);
    const heldHalf = await openCount();
    const secondStart = performance.now();
    const second = await openHalf(1);
    const rampSeconds = firstSeconds + (performance.now() - secondStart) / 1000;
    const opened = [...first, ...second];
    const failed = opened.reduce((sum, r) => sum + r.failed, 0);
    const openedCount = opened.reduce((sum, r) => sum + r.opened, 0);
    log(
      `connections: ${openedCount} open after ${rampSeconds.toFixed(1)} s of opening (${failed} failed); holding ${plan.holdMs / 1000} s after ${plan.settleMs / 1000} s to settle`,
    );

    await sleep(plan.settleMs);
    const holdBefore = sampleCpu(gomeet.servers);
    const holdStart = performance.now();
    const rounds = await countRounds(gomeet.valkey.url, instanceIds, plan.holdMs, plan.sampleIntervalMs);
    const hold = cpuBetween(holdBefore, sampleCpu(gomeet.servers));
    const holdSeconds = (performance.now() - holdStart) / 1000;
    const rssAfter = instances.map(rssBytes);
    const valkeyAfter = Number((await redisInfo(systems.valkey, "memory")).used_memory);
    const held = await openCount();
    const heldByServerMetrics = await connectionsOnServers(gomeet.endpoints);

    const heartbeatCpu = Math.max(0, hold.total - idlePerSecond * holdSeconds);
    const meanRounds = rounds.reduce((a, b) => a + b, 0) / rounds.length;
    const cpuPerRound = meanRounds > 0 ? heartbeatCpu / meanRounds : Number.NaN;
    const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
    const added = held - heldHalf;
    return {
      target: plan.connections,
      held,
      heldByServerMetrics,
      failed,
      errors: [...new Set(opened.flatMap((r) => r.errors))],
      rampSeconds,
      connectionsPerSecond: openedCount / rampSeconds,
      kbPerConnection: added > 0 ? (sum(rssAfter) - sum(rssHalf)) / added / 1024 : Number.NaN,
      rssMbBefore: rssBefore.map((b) => b / 2 ** 20),
      rssMbHalf: rssHalf.map((b) => b / 2 ** 20),
      rssMbAfter: rssAfter.map((b) => b / 2 ** 20),
      valkeyBytesPerConnection: held > 0 ? (valkeyAfter - valkeyBefore) / held : Number.NaN,
      heartbeat: {
        intervalMs: plan.heartbeatIntervalMs,
        rounds,
        cpuMsPerRound: cpuPerRound * 1000,
        cpuUsPerConnection: held > 0 ? (cpuPerRound * 1e6) / held : Number.NaN,
        corePercentAtInterval: (100 * cpuPerRound) / (plan.heartbeatIntervalMs / 1000),
      },
      openFilesLimit: openFilesLimit(),
    };
  } finally {
    log("connections: closing");
    await Promise.all(workers.map((w) => w.closeAll(20_000).catch(() => undefined)));
    await Promise.all(workers.map((w) => w.stop()));
  }
}
