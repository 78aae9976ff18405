/**
 * Tokens: POST /rooms/:id/token at a fixed open-loop rate, spread over the three instances, in two
 * modes that alternate:
 * - cached: a fixed set of (room, user) pairs, every instance warmed first: each request is an
 *   in-process cache hit;
 * - signed: a new display name on every request (the rooms' members, each request under a name of its own): a cache
 *   miss (Valkey GET), a signature, a Valkey SET. The membership is cached after each member's first request.
 * The load is open-loop (requests leave on schedule whatever the answers do); latency runs from
 * the moment a request is issued (waiting for a free keep-alive socket included) to the end of its
 * response, and is taken from the successful (2xx) answers only: failures (non-2xx, errors, no answer)
 * are counted and reported beside it, and any failure misses the latency target (bench/targets.ts).
 * Server CPU per request is read from /proc like the fan-out's.
 */
import { LatencyHistogram } from "./histogram";
import { cpuBetween, sampleCpu } from "./proc-stats";
import { log } from "./progress";
import { addRoomMembers } from "./rooms";
import type { BenchSystems } from "./systems";
import { startWorkers } from "./workers";
import type { HttpLoadReply } from "./worker-protocol";

export type TokenMode = "cached" | "signed";

export interface TokensPlan {
  ratePerSecond: number;
  /** Length of each run, warm-up included. */
  runMs: number;
  warmupMs: number;
  /** Runs per mode; the modes alternate. */
  rounds: number;
  usersPerRoom: number;
  socketsPerServer: number;
}

export interface TokenModeResult {
  mode: TokenMode;
  /** Measured requests (after the warm-up), answered or not. */
  requests: number;
  /** Of those, the ones without a 2xx answer; the latency figures leave them out. */
  failed: number;
  ratePerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpuUsPerRequest: number;
  statuses: Record<string, number>;
}

export interface TokensResult {
  cached: TokenModeResult;
  signed: TokenModeResult;
  /** The worse of the two modes at each percentile: every successful token request, cached or not. */
  p50Ms: number;
  p99Ms: number;
  /** Cached median latency over signed median latency (below 1: the cache is faster). */
  cachedVsSigned: number;
  /** Failed requests in both modes. */
  failed: number;
  errors: string[];
}

export async function runTokens(systems: BenchSystems, rooms: readonly string[], plan: TokensPlan): Promise<TokensResult> {
  const { gomeet } = systems;
  const [worker] = await startWorkers(1, systems.jwtSecret, "token-client");
  if (worker === undefined) throw new Error("tokens: no client worker");
  const histograms = { cached: new LatencyHistogram(), signed: new LatencyHistogram() };
  const totals = {
    cached: { requests: 0, failed: 0, seconds: 0, cpu: 0, statuses: {} as Record<string, number> },
    signed: { requests: 0, failed: 0, seconds: 0, cpu: 0, statuses: {} as Record<string, number> },
  };
  const errors: string[] = [];
  // Member k of the set belongs to rooms[k % rooms] (bench/worker-http-load.ts pairs requests with members that way).
  const memberPrefix = `tok-member-${Date.now()}`;
  await addRoomMembers(gomeet.endpoints[0] as string, rooms, plan.usersPerRoom, (r, j) => `${memberPrefix}-${j * rooms.length + r}`);
  try {
    for (let round = 0; round < plan.rounds; round++) {
      for (const mode of ["cached", "signed"] as const) {
        const before = sampleCpu(gomeet.servers);
        const reply: HttpLoadReply = await worker.httpLoad({
          servers: gomeet.endpoints,
          rooms: [...rooms],
          mode,
          usersPerRoom: plan.usersPerRoom,
          memberPrefix,
          ratePerSecond: plan.ratePerSecond,
          durationMs: plan.runMs,
          warmupMs: plan.warmupMs,
          userPrefix: `tok-${mode}-${round}-${Date.now()}`,
          socketsPerServer: plan.socketsPerServer,
        });
        const cpu = cpuBetween(before, sampleCpu(gomeet.servers));
        histograms[mode].add(reply.latency);
        const total = totals[mode];
        total.requests += reply.recorded;
        total.failed += reply.failed;
        total.seconds += reply.recorded / Math.max(reply.ratePerSecond, 1);
        // The CPU covers the warm-up requests too: charge it to every request sent.
        total.cpu += cpu.total * (reply.recorded / Math.max(reply.sent, 1));
        for (const [status, n] of Object.entries(reply.statuses)) total.statuses[status] = (total.statuses[status] ?? 0) + n;
        errors.push(...reply.errors);
        const h = LatencyHistogram.merge([reply.latency]);
        log(
          `  tokens ${mode.padEnd(6)} round ${round + 1}: ${reply.recorded} requests at ${Math.round(reply.ratePerSecond)}/s, ${reply.failed} failed; ` +
            `successful answers p50 ${h.percentile(0.5).toFixed(2)} ms, p99 ${h.percentile(0.99).toFixed(2)} ms, statuses ${JSON.stringify(reply.statuses)}, ` +
            `server CPU ${Object.entries(cpu.byServer)
              .map(([name, seconds]) => `${name} ${seconds.toFixed(2)}`)
              .join(", ")} s`,
        );
      }
    }
  } finally {
    await worker.stop();
  }
  const result = (mode: TokenMode): TokenModeResult => {
    const h = histograms[mode];
    const total = totals[mode];
    return {
      mode,
      requests: total.requests,
      failed: total.failed,
      ratePerSecond: total.seconds > 0 ? total.requests / total.seconds : 0,
      p50Ms: h.percentile(0.5),
      p99Ms: h.percentile(0.99),
      maxMs: h.percentile(1),
      serverCpuUsPerRequest: total.requests > 0 ? (total.cpu * 1e6) / total.requests : Number.NaN,
      statuses: total.statuses,
    };
  };
  const cached = result("cached");
  const signed = result("signed");
  return {
    cached,
    signed,
    p50Ms: Math.max(cached.p50Ms, signed.p50Ms),
    p99Ms: Math.max(cached.p99Ms, signed.p99Ms),
    cachedVsSigned: cached.p50Ms / signed.p50Ms,
    failed: cached.failed + signed.failed,
    errors: [...new Set(errors)].slice(0, 5),
  };
}
