/**
 * Connections: ramp to N concurrent GoMeet WebSockets spread over the three instances (rooms of a
 * meeting's size), then hold them.
 *
 * - Resident memory per connection: the instances' summed RSS at the end of the hold minus before
 *   the ramp, over the connections held (also Valkey's used_memory per connection: presence entries
 *   and the connection index).
 * - Heartbeat cost: CPU of every GoMeet server process over the hold, minus what the same
 *   processes use idle with no connections (health checks, role checks) over the same time; the
 *   heartbeat rounds inside the hold are counted from the CPU bursts each instance shows.
 */
import fs from "node:fs";
import { redisInfo } from "../test/support/redis";
import { cpuSeconds, rssBytes, sampleCpu, cpuBetween, type ServerProcess } from "./proc-stats";
import { log, sleep } from "./progress";
import { createRooms } from "./rooms";
import type { BenchSystems } from "./systems";
import { startWorkers } from "./workers";
import type { ConnectionSpec } from "./worker-protocol";

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
  rampSeconds: number;
  connectionsPerSecond: number;
  kbPerConnection: number;
  rssMbBefore: number[];
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
 * CPU of each instance sampled every `intervalMs` over `durationMs`: returns how many heartbeat
 * rounds each shows. A round is a burst of samples well above the idle rate; busy samples less than
 * half a heartbeat interval after the previous busy one belong to the same round (pings go out,
 * pongs and presence refreshes come back over the next milliseconds).
 */
async function countRounds(
  instances: readonly ServerProcess[],
  idleCpuPerSecond: readonly number[],
  heartbeatIntervalMs: number,
  durationMs: number,
  intervalMs: number,
): Promise<number[]> {
  const rounds = instances.map(() => 0);
  const lastBusyAt = instances.map(() => Number.NEGATIVE_INFINITY);
  let last = instances.map((p) => cpuSeconds(p));
  let lastAt = performance.now();
  const end = lastAt + durationMs;
  while (performance.now() < end) {
    await sleep(intervalMs);
    const now = performance.now();
    const current = instances.map((p) => cpuSeconds(p));
    const seconds = (now - lastAt) / 1000;
    instances.forEach((_, i) => {
      const used = (current[i] as number) - (last[i] as number);
      // Busy: at least 10 ms of CPU in the sample and 5x the idle rate.
      if (used < 0.01 || used <= 5 * (idleCpuPerSecond[i] as number) * seconds) return;
      if (now - (lastBusyAt[i] as number) > heartbeatIntervalMs / 2) rounds[i] = (rounds[i] as number) + 1;
      lastBusyAt[i] = now;
    });
    last = current;
    lastAt = now;
  }
  return rounds;
}

export async function runConnections(systems: BenchSystems, plan: ConnectionsPlan): Promise<ConnectionsResult> {
  const { gomeet } = systems;
  const instances = gomeet.instances.map((i) => ({ name: i.name, pid: i.process.pid }));
  const roomCount = Math.ceil(plan.connections / plan.roomSize);
  log(`connections: creating ${roomCount} rooms of ${plan.roomSize}`);
  const rooms = await createRooms(gomeet.endpoints[0] as string, roomCount, "conn");

  log(`connections: idle CPU with no connections over ${plan.baselineMs / 1000} s`);
  const idleBefore = sampleCpu(gomeet.servers);
  const idleStart = performance.now();
  await sleep(plan.baselineMs);
  const idle = cpuBetween(idleBefore, sampleCpu(gomeet.servers));
  const idleSeconds = (performance.now() - idleStart) / 1000;
  const idlePerSecond = idle.total / idleSeconds;
  const idleInstancePerSecond = instances.map((i) => (idle.byServer[i.name] as number) / idleSeconds);
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
    log(`connections: opening ${plan.connections} WebSockets over ${gomeet.endpoints.length} instances from ${plan.workers} client processes`);
    const rampStart = performance.now();
    const opened = await Promise.all(
      workers.map((worker, w) => worker.open({ system: "gomeet", connections: specs[w] as ConnectionSpec[], concurrency: plan.concurrencyPerWorker, timeoutMs: plan.openTimeoutMs })),
    );
    const rampSeconds = (performance.now() - rampStart) / 1000;
    const failed = opened.reduce((sum, r) => sum + r.failed, 0);
    const openedCount = opened.reduce((sum, r) => sum + r.opened, 0);
    log(`connections: ${openedCount} open after ${rampSeconds.toFixed(1)} s (${failed} failed); holding ${plan.holdMs / 1000} s after ${plan.settleMs / 1000} s to settle`);

    await sleep(plan.settleMs);
    const holdBefore = sampleCpu(gomeet.servers);
    const holdStart = performance.now();
    const rounds = await countRounds(instances, idleInstancePerSecond, plan.heartbeatIntervalMs, plan.holdMs, plan.sampleIntervalMs);
    const hold = cpuBetween(holdBefore, sampleCpu(gomeet.servers));
    const holdSeconds = (performance.now() - holdStart) / 1000;
    const rssAfter = instances.map(rssBytes);
    const valkeyAfter = Number((await redisInfo(systems.valkey, "memory")).used_memory);
    const counts = await Promise.all(workers.map((w) => w.counts()));
    const held = counts.reduce((sum, c) => sum + c.open, 0);
    const heldByServerMetrics = await connectionsOnServers(gomeet.endpoints);

    const heartbeatCpu = Math.max(0, hold.total - idlePerSecond * holdSeconds);
    const meanRounds = rounds.reduce((a, b) => a + b, 0) / rounds.length;
    const cpuPerRound = meanRounds > 0 ? heartbeatCpu / meanRounds : Number.NaN;
    const rssDelta = rssAfter.reduce((a, b) => a + b, 0) - rssBefore.reduce((a, b) => a + b, 0);
    return {
      target: plan.connections,
      held,
      heldByServerMetrics,
      failed,
      errors: opened.flatMap((r) => r.errors),
      rampSeconds,
      connectionsPerSecond: openedCount / rampSeconds,
      kbPerConnection: held > 0 ? rssDelta / held / 1024 : Number.NaN,
      rssMbBefore: rssBefore.map((b) => b / 2 ** 20),
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
