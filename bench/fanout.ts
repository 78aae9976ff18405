/**
 * Fan-out: the same rooms, clients and 100-byte payloads against GoMeet (three instances + Valkey),
 * Socket.IO with its Redis adapter (three nodes + the same Valkey) and a raw single-process `ws`
 * broadcast. At each offered rate the systems run one after another (the order rotates from rate
 * to rate); the fixed rates run for every system, then the rate steps up for each system until its
 * p99 passes the limit (or it stops delivering what is sent).
 *
 * Per step, over the measurement window: messages sent, deliveries received, end-to-end latency
 * (sender's send to receiver's receive, one clock: a room's members all live in one client
 * process), and the CPU seconds of every server process of the system, read from /proc.
 *
 * The machine may be shared: each step also records how much CPU everything else used meanwhile
 * ("other"). A step disturbed beyond a bound is repeated; a system's figures at a rate pool its
 * measurements within the bound (or, if there are none, take its least disturbed one), and those
 * figures decide the targets and the step-up.
 */
import { LatencyHistogram, type SparseHistogram } from "./histogram";
import { cpuBetween, machineBusySeconds, sampleCpu } from "./proc-stats";
import { log, sleep, type Budget } from "./progress";
import type { SystemUnderTest } from "./systems";
import type { ClientWorker } from "./workers";
import type { ClientKind, ConnectionSpec, SystemName } from "./worker-protocol";

export interface FanoutPlan {
  rooms: string[];
  membersPerRoom: number;
  /** Rates every system runs at (the targets are read at these). */
  fixedRates: number[];
  /** Rates tried next, in order, for each system whose previous step held. */
  stepRates: number[];
  warmupMs: number;
  measureMs: number;
  drainTimeoutMs: number;
  p99LimitMs: number;
  /** A step during which other processes used more than this (% of one core) is repeated... */
  maxOtherCpuPercent: number;
  /** ...at most this many times. */
  noisyRetries: number;
  /** A step holds only if at least this fraction of the deliveries due for what was sent arrived in the window. */
  minDeliveredFraction: number;
}

export interface FanoutStep {
  system: SystemName;
  offeredPerSecond: number;
  sentPerSecond: number;
  deliveredPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuSeconds: number;
  deliveriesPerCpuSecond: number;
  /** CPU of the client processes, in % of one core (they share the 2 cores with the servers). */
  clientCpuPercent: number;
  /** Everything else the machine ran meanwhile (other tenants, idle servers of the other systems, this harness), in % of one core. */
  otherCpuPercent: number;
  /** Deliveries still missing when the drain after the step timed out. */
  undelivered: number;
  unexpectedCloses: number;
  windowSeconds: number;
  serverCpuByProcess: Record<string, number>;
  /** (Nearly) everything sent was delivered, in the window and after it. */
  deliveryOk: boolean;
  /** deliveryOk, and p99 within the limit. */
  held: boolean;
  /** The latency samples, to pool several measurements (not part of the JSON document). */
  latency: SparseHistogram;
}

export interface FanoutResult {
  steps: FanoutStep[];
  efficiencyVsSocketio: number;
  efficiencyVsCeiling: number;
  p99MsAt3000: number;
  maxRateUnder50msP99: { ours: number; socketio: number };
  /** The interference bound under which measurements count (FanoutPlan.maxOtherCpuPercent). */
  maxOtherCpuPercent: number;
  /** The p99 a rate must stay under to hold (FanoutPlan.p99LimitMs). */
  p99LimitMs: number;
  /** Systems that still held at the last rate tried (their true limit is higher). */
  notReached: SystemName[];
  /** The same figures for a candidate build, when one ran (not part of the JSON document). */
  candidate?: {
    efficiencyVsSocketio: number;
    efficiencyVsCeiling: number;
    efficiencyVsGomeet: number;
    p99MsAt3000: number;
    maxRateUnder50msP99: number;
  };
}

export interface FanoutSystem {
  system: SystemUnderTest;
  /** Each room's members all in one worker (one clock for send and receive). */
  workers: ClientWorker[];
}

const OPEN_CONCURRENCY = 50;
const OPEN_TIMEOUT_MS = 15_000;
const DRAIN_POLL_MS = 100;
const RATE_FOR_TARGETS = 3000;

/** Member j of room r connects to endpoint (r * members + j) mod endpoints: every room spans every instance. */
export function roomConnections(
  system: SystemUnderTest,
  rooms: readonly string[],
  membersPerRoom: number,
  roomIndexes: readonly number[],
): ConnectionSpec[] {
  const specs: ConnectionSpec[] = [];
  for (const r of roomIndexes) {
    for (let j = 0; j < membersPerRoom; j++) {
      const endpoint = system.endpoints[(r * membersPerRoom + j) % system.endpoints.length] as string;
      specs.push({ server: endpoint, room: rooms[r] as string, user: `fanout-${r}-${j}` });
    }
  }
  return specs;
}

/** A candidate build of GoMeet speaks GoMeet's protocol. */
export function clientKind(system: SystemName): ClientKind {
  return system === "candidate" ? "gomeet" : system;
}

/** Rooms of worker w: every room whose index is w modulo the worker count. */
function roomsOfWorker(worker: number, workers: number, rooms: number): number[] {
  return Array.from({ length: rooms }, (_, r) => r).filter((r) => r % workers === worker);
}

export async function connectFanoutClients(target: FanoutSystem, plan: FanoutPlan): Promise<void> {
  const replies = await Promise.all(
    target.workers.map((worker, w) =>
      worker.open({
        system: clientKind(target.system.name),
        connections: roomConnections(
          target.system,
          plan.rooms,
          plan.membersPerRoom,
          roomsOfWorker(w, target.workers.length, plan.rooms.length),
        ),
        concurrency: OPEN_CONCURRENCY,
        timeoutMs: OPEN_TIMEOUT_MS,
      }),
    ),
  );
  const failed = replies.reduce((sum, r) => sum + r.failed, 0);
  if (failed > 0) {
    throw new Error(`${target.system.name}: ${failed} fan-out connection(s) failed: ${replies.flatMap((r) => r.errors).join("; ")}`);
  }
}

class DrainTracker {
  private shortfall = 0;

  constructor(private readonly target: FanoutSystem) {}

  /** Waits until every delivery due so far has arrived (or the timeout); returns how many of this step's are still missing. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let missing = 0;
    for (;;) {
      const counts = await Promise.all(this.target.workers.map((w) => w.counts()));
      missing = counts.reduce((sum, c) => sum + Math.max(0, c.expected - c.received), 0);
      if (missing <= this.shortfall || Date.now() >= deadline) break;
      await sleep(DRAIN_POLL_MS);
    }
    const fresh = Math.max(0, missing - this.shortfall);
    this.shortfall = Math.max(this.shortfall, missing);
    return fresh;
  }
}

async function runStep(target: FanoutSystem, drainer: DrainTracker, rate: number, plan: FanoutPlan): Promise<FanoutStep> {
  const { workers, system } = target;
  system.assertRunning();
  const roomsPerWorker = workers.map((_, w) => roomsOfWorker(w, workers.length, plan.rooms.length).length);
  await Promise.all(workers.map((worker, w) => worker.send((rate * (roomsPerWorker[w] as number)) / plan.rooms.length)));
  await sleep(plan.warmupMs);
  await Promise.all(workers.map((worker) => worker.mark()));
  const cpuBefore = sampleCpu(system.servers);
  const machineBefore = machineBusySeconds();
  const started = performance.now();
  await sleep(plan.measureMs);
  system.assertRunning();
  const cpuAfter = sampleCpu(system.servers);
  const machineAfter = machineBusySeconds();
  const windowSeconds = (performance.now() - started) / 1000;
  const reports = await Promise.all(workers.map((worker) => worker.report()));
  await Promise.all(workers.map((worker) => worker.stopSend()));
  const undelivered = await drainer.drain(plan.drainTimeoutMs);

  const cpu = cpuBetween(cpuBefore, cpuAfter);
  const latency = LatencyHistogram.merge(reports.map((r) => r.latency));
  const sent = reports.reduce((sum, r) => sum + r.sent, 0);
  const received = reports.reduce((sum, r) => sum + r.received, 0);
  const p99Ms = latency.percentile(0.99);
  const deliveredFraction = sent === 0 ? 0 : received / (sent * plan.membersPerRoom);
  const deliveryOk = deliveredFraction >= plan.minDeliveredFraction && undelivered === 0;
  const clientCpu = reports.reduce((sum, r) => sum + r.cpuSeconds, 0);
  const errors = reports.flatMap((r) => r.errors);
  if (errors.length > 0) log(`  ${system.name} client errors: ${errors.join("; ")}`);
  return {
    system: system.name,
    offeredPerSecond: rate,
    sentPerSecond: sent / windowSeconds,
    deliveredPerSecond: received / windowSeconds,
    p50Ms: latency.percentile(0.5),
    p99Ms,
    serverCpuSeconds: cpu.total,
    deliveriesPerCpuSecond: cpu.total > 0 ? received / cpu.total : Number.NaN,
    clientCpuPercent: (100 * clientCpu) / windowSeconds,
    otherCpuPercent: (100 * Math.max(0, machineAfter - machineBefore - cpu.total - clientCpu)) / windowSeconds,
    undelivered,
    unexpectedCloses: reports.reduce((sum, r) => sum + r.unexpectedCloses, 0),
    windowSeconds,
    serverCpuByProcess: cpu.byServer,
    deliveryOk,
    held: deliveryOk && p99Ms <= plan.p99LimitMs,
    latency: latency.toSparse(),
  };
}

function describe(step: FanoutStep): string {
  return (
    `  ${step.system.padEnd(8)} ${String(step.offeredPerSecond).padStart(6)} msg/s: delivered ${Math.round(step.deliveredPerSecond)}/s, ` +
    `p50 ${step.p50Ms.toFixed(2)} ms, p99 ${step.p99Ms.toFixed(2)} ms, server CPU ${step.serverCpuSeconds.toFixed(2)} s, ` +
    `${Math.round(step.deliveriesPerCpuSecond)} deliveries/CPU-s, clients ${Math.round(step.clientCpuPercent)}%, other ${Math.round(step.otherCpuPercent)}%${step.held ? "" : "  [limit]"}`
  );
}

/**
 * Runs a step; while other processes took more than plan.maxOtherCpuPercent of a core during it
 * (other users' work on a shared machine), runs it again, at most plan.noisyRetries times and only
 * while the budget allows. Returns every attempt.
 */
async function measuredStep(
  target: FanoutSystem,
  drainer: DrainTracker,
  rate: number,
  plan: FanoutPlan,
  budget: Budget,
): Promise<FanoutStep[]> {
  const attempts = [await runStep(target, drainer, rate, plan)];
  log(describe(attempts[0] as FanoutStep));
  const stepMs = plan.warmupMs + plan.measureMs + plan.drainTimeoutMs;
  for (let retry = 1; retry <= plan.noisyRetries; retry++) {
    const interference = Math.min(...attempts.map((a) => a.otherCpuPercent));
    if (interference <= plan.maxOtherCpuPercent) break;
    if (!budget.allows(`repeating a step measured under interference (other ${Math.round(interference)}%)`, stepMs)) break;
    log(`  other processes used ${Math.round(interference)}% of a core: repeating (${retry}/${plan.noisyRetries})`);
    const again = await runStep(target, drainer, rate, plan);
    log(describe(again));
    attempts.push(again);
  }
  return attempts;
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const n = items.length;
  return items.map((_, i) => items[(i + by) % n] as T);
}

/** A system's figures at one rate, from the measurements that count (see countedSteps). */
export interface RateFigures {
  deliveriesPerCpuSecond: number;
  p50Ms: number;
  p99Ms: number;
  held: boolean;
  /** How many measurements were pooled. */
  measurements: number;
}

/**
 * The measurements of `system` at `rate` that count: those taken while other processes used at
 * most `maxOtherCpuPercent` of a core, or else the single least disturbed one.
 */
export function countedSteps(steps: readonly FanoutStep[], system: SystemName, rate: number, maxOtherCpuPercent: number): FanoutStep[] {
  const all = steps.filter((s) => s.system === system && s.offeredPerSecond === rate);
  const quiet = all.filter((s) => s.otherCpuPercent <= maxOtherCpuPercent);
  if (quiet.length > 0) return quiet;
  const least = all.reduce<FanoutStep | undefined>(
    (best, s) => (best === undefined || s.otherCpuPercent < best.otherCpuPercent ? s : best),
    undefined,
  );
  return least === undefined ? [] : [least];
}

/** The counted measurements pooled: deliveries over CPU seconds summed, latencies merged. Undefined if none. */
export function figuresAt(
  steps: readonly FanoutStep[],
  system: SystemName,
  rate: number,
  plan: Pick<FanoutPlan, "maxOtherCpuPercent" | "p99LimitMs">,
): RateFigures | undefined {
  const counted = countedSteps(steps, system, rate, plan.maxOtherCpuPercent);
  if (counted.length === 0) return undefined;
  const deliveries = counted.reduce((sum, s) => sum + s.deliveredPerSecond * s.windowSeconds, 0);
  const cpu = counted.reduce((sum, s) => sum + s.serverCpuSeconds, 0);
  const latency = LatencyHistogram.merge(counted.map((s) => s.latency));
  const p99Ms = latency.percentile(0.99);
  return {
    deliveriesPerCpuSecond: deliveries / cpu,
    p50Ms: latency.percentile(0.5),
    p99Ms,
    held: counted.every((s) => s.deliveryOk) && p99Ms <= plan.p99LimitMs,
    measurements: counted.length,
  };
}

/** Whether `system` held at every rate tried so far. */
function stillHolds(
  steps: readonly FanoutStep[],
  system: SystemName,
  plan: Pick<FanoutPlan, "maxOtherCpuPercent" | "p99LimitMs">,
): boolean {
  const rates = new Set(steps.filter((s) => s.system === system).map((s) => s.offeredPerSecond));
  return [...rates].every((rate) => figuresAt(steps, system, rate, plan)?.held === true);
}

export async function runFanout(targets: FanoutSystem[], plan: FanoutPlan, budget: Budget): Promise<FanoutResult> {
  const drainers = new Map(targets.map((t) => [t.system.name, new DrainTracker(t)]));
  const steps: FanoutStep[] = [];
  const rates = [...plan.fixedRates, ...plan.stepRates];
  for (let i = 0; i < rates.length; i++) {
    const rate = rates[i] as number;
    const fixed = i < plan.fixedRates.length;
    const active = targets.filter((t) => fixed || stillHolds(steps, t.system.name, plan));
    if (active.length === 0) break;
    if (!fixed && !budget.allows("fan-out step", active.length * (plan.warmupMs + plan.measureMs + plan.drainTimeoutMs))) break;
    log(`fan-out at ${rate} msg/s offered (${plan.rooms.length} rooms x ${plan.membersPerRoom} members)`);
    for (const target of rotate(active, i)) {
      steps.push(...(await measuredStep(target, drainers.get(target.system.name) as DrainTracker, rate, plan, budget)));
    }
  }
  return summarise(
    steps,
    targets.map((t) => t.system.name),
    plan,
  );
}

/** The highest rate up to which `system` held at every rate (0 if not even the first). */
export function maxHeldRate(
  steps: readonly FanoutStep[],
  system: SystemName,
  plan: Pick<FanoutPlan, "maxOtherCpuPercent" | "p99LimitMs">,
): number {
  const rates = [...new Set(steps.filter((s) => s.system === system).map((s) => s.offeredPerSecond))].sort((a, b) => a - b);
  let best = 0;
  for (const rate of rates) {
    if (figuresAt(steps, system, rate, plan)?.held !== true) break;
    best = rate;
  }
  return best;
}

const NOT_RUN = { deliveriesPerCpuSecond: Number.NaN, p99Ms: Number.NaN };

/** The fan-out's figures from its steps: the ratios and p99 at 3,000 msg/s, the highest rates held, the systems still holding. */
export function summarise(
  steps: FanoutStep[],
  systems: readonly SystemName[],
  plan: Pick<FanoutPlan, "maxOtherCpuPercent" | "p99LimitMs">,
): FanoutResult {
  const ours = figuresAt(steps, "gomeet", RATE_FOR_TARGETS, plan) ?? NOT_RUN;
  const candidate = figuresAt(steps, "candidate", RATE_FOR_TARGETS, plan) ?? NOT_RUN;
  const socketio = figuresAt(steps, "socketio", RATE_FOR_TARGETS, plan) ?? NOT_RUN;
  const raw = figuresAt(steps, "raw", RATE_FOR_TARGETS, plan) ?? NOT_RUN;
  return {
    ...(systems.includes("candidate")
      ? {
          candidate: {
            efficiencyVsSocketio: candidate.deliveriesPerCpuSecond / socketio.deliveriesPerCpuSecond,
            efficiencyVsCeiling: candidate.deliveriesPerCpuSecond / raw.deliveriesPerCpuSecond,
            efficiencyVsGomeet: candidate.deliveriesPerCpuSecond / ours.deliveriesPerCpuSecond,
            p99MsAt3000: candidate.p99Ms,
            maxRateUnder50msP99: maxHeldRate(steps, "candidate", plan),
          },
        }
      : {}),
    steps,
    maxOtherCpuPercent: plan.maxOtherCpuPercent,
    p99LimitMs: plan.p99LimitMs,
    efficiencyVsSocketio: ours.deliveriesPerCpuSecond / socketio.deliveriesPerCpuSecond,
    efficiencyVsCeiling: ours.deliveriesPerCpuSecond / raw.deliveriesPerCpuSecond,
    p99MsAt3000: ours.p99Ms,
    maxRateUnder50msP99: { ours: maxHeldRate(steps, "gomeet", plan), socketio: maxHeldRate(steps, "socketio", plan) },
    notReached: systems.filter((name) => stillHolds(steps, name, plan)),
  };
}
