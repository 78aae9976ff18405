/**
 * The benchmark's outputs: its JSON document (`--json`) and readable tables with each
 * figure next to its target.
 */
import type { ConnectionsResult } from "./connections";
import { countedSteps, figuresAt, type FanoutResult, type FanoutStep } from "./fanout";
import { connectionsTargets, fanoutTargets, tokensTargets, verdictWord, type TargetVerdict } from "./targets";
import type { TokensResult } from "./tokens";
import type { SystemName } from "./worker-protocol";

export interface BenchResults {
  fanout?: FanoutResult;
  connections?: ConnectionsResult;
  tokens?: TokensResult;
}

export interface MachineInfo {
  cores: number;
  memoryGiB: number;
  node: string;
  loadAverageStart: number[];
  loadAverageEnd: number[];
  openFilesLimit: number;
  /** The benchmark's scheduling priority (0 unless --nice). */
  nice: number;
  durationSeconds: number;
  /** What the candidate system is (entry and settings), when one ran. */
  candidate?: string;
}

/** Finite numbers rounded to `digits` decimals; NaN and infinities become null (JSON has no such numbers). */
function num(value: number, digits = 2): number | null {
  if (!Number.isFinite(value)) return null;
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** Whether the step is one of those the figures at its rate are pooled from. */
function isCounted(step: FanoutStep, fanout: FanoutResult): boolean {
  return countedSteps(fanout.steps, step.system, step.offeredPerSecond, fanout.maxOtherCpuPercent).includes(step);
}

function jsonStep(step: FanoutStep, fanout: FanoutResult): Record<string, unknown> {
  return {
    system: step.system,
    offeredPerSecond: step.offeredPerSecond,
    sentPerSecond: num(step.sentPerSecond, 0),
    deliveredPerSecond: num(step.deliveredPerSecond, 0),
    p50Ms: num(step.p50Ms),
    p99Ms: num(step.p99Ms),
    serverCpuSeconds: num(step.serverCpuSeconds),
    deliveriesPerCpuSecond: num(step.deliveriesPerCpuSecond, 0),
    clientCpuPercent: num(step.clientCpuPercent, 0),
    otherCpuPercent: num(step.otherCpuPercent, 0),
    undelivered: step.undelivered,
    windowSeconds: num(step.windowSeconds),
    serverCpuByProcess: Object.fromEntries(Object.entries(step.serverCpuByProcess).map(([name, seconds]) => [name, num(seconds)])),
    held: step.held,
    counted: isCounted(step, fanout),
  };
}

/** The `--json` document; a part that was not run is null. */
export function resultDocument(results: BenchResults): Record<string, unknown> {
  const { fanout, connections, tokens } = results;
  return {
    fanout:
      fanout === undefined
        ? null
        : {
            steps: fanout.steps.map((step) => jsonStep(step, fanout)),
            efficiencyVsSocketio: num(fanout.efficiencyVsSocketio),
            efficiencyVsCeiling: num(fanout.efficiencyVsCeiling),
            p99MsAt3000: num(fanout.p99MsAt3000),
            maxRateUnder50msP99: { ours: fanout.maxRateUnder50msP99.ours, socketio: fanout.maxRateUnder50msP99.socketio },
          },
    connections: connections === undefined ? null : { held: connections.held, kbPerConnection: num(connections.kbPerConnection, 1) },
    tokens:
      tokens === undefined
        ? null
        : { p50Ms: num(tokens.p50Ms), p99Ms: num(tokens.p99Ms), cachedVsSigned: num(tokens.cachedVsSigned), failed: tokens.failed },
  };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join("  ");
  return [line(headers), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function fixed(value: number, digits: number): string {
  if (Number.isNaN(value)) return "n/a";
  if (!Number.isFinite(value)) return "inf";
  return value.toFixed(digits);
}

function whole(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : fixed(value, 0);
}

/** met / MISSED of the target named `name` among `verdicts` (bench/targets.ts judges; the tables only print). */
function verdict(verdicts: readonly TargetVerdict[], name: string): string {
  const found = verdicts.find((v) => v.name === name);
  if (found === undefined) throw new Error(`bench report: no target "${name}"`);
  return verdictWord(found.met);
}

function fanoutTables(fanout: FanoutResult): string {
  const rows = fanout.steps.map((s) => [
    `${s.system}${isCounted(s, fanout) ? " *" : ""}`,
    whole(s.offeredPerSecond),
    whole(s.deliveredPerSecond),
    fixed(s.p50Ms, 2),
    fixed(s.p99Ms, 2),
    fixed(s.serverCpuSeconds, 2),
    whole(s.deliveriesPerCpuSecond),
    whole(s.clientCpuPercent),
    whole(s.otherCpuPercent),
    s.held ? "" : "limit",
  ]);
  const { ours, socketio } = fanout.maxRateUnder50msP99;
  const systems = [...new Set(fanout.steps.map((s) => s.system))];
  const rates = [...new Set(fanout.steps.map((s) => s.offeredPerSecond))].sort((a, b) => a - b);
  const pooledRows = rates.flatMap((rate) =>
    systems.flatMap((system) => {
      const f = figuresAt(fanout.steps, system, rate, fanout);
      return f === undefined
        ? []
        : [
            [
              system,
              whole(rate),
              String(f.measurements),
              whole(f.deliveriesPerCpuSecond),
              fixed(f.p50Ms, 2),
              fixed(f.p99Ms, 2),
              f.held ? "" : "limit",
            ],
          ];
    }),
  );
  const targets = fanoutTargets(fanout);
  const reached = (name: SystemName, rate: number): string =>
    fanout.notReached.includes(name) ? `>= ${whole(rate)} (limit not reached)` : whole(rate);
  return [
    "Fan-out (10 rooms x 30 members, 100-byte payloads; deliveries per server CPU-second = deliveries / user+system CPU of every server process;",
    `other % = CPU everything else on the machine used meanwhile; * = counted: measured with other <= ${fanout.maxOtherCpuPercent} %, or the least disturbed one; the figures below pool them)`,
    table(["system", "offered/s", "delivered/s", "p50 ms", "p99 ms", "server CPU-s", "deliveries/CPU-s", "clients %", "other %", ""], rows),
    "",
    "Per system and rate (the counted measurements pooled):",
    table(["system", "offered/s", "counted", "deliveries/CPU-s", "p50 ms", "p99 ms", ""], pooledRows),
    "",
    `  vs Socket.IO at 3,000 msg/s:     ${fixed(fanout.efficiencyVsSocketio, 2)}x deliveries per CPU-second (target >= 2x: ${verdict(targets, "deliveries per CPU-second vs Socket.IO at 3,000 msg/s")})`,
    `  vs raw ws ceiling at 3,000 msg/s: ${fixed(100 * fanout.efficiencyVsCeiling, 0)} % (target >= 70 %: ${verdict(targets, "deliveries per CPU-second vs raw ws at 3,000 msg/s")})`,
    `  p99 at 3,000 msg/s:              ${fixed(fanout.p99MsAt3000, 2)} ms (target <= 10 ms: ${verdict(targets, "p99 at 3,000 msg/s")})`,
    `  highest rate with p99 <= 50 ms:  GoMeet ${reached("gomeet", ours)}, Socket.IO ${reached("socketio", socketio)} msg/s (target: at least Socket.IO's: ${verdict(targets, "highest rate with p99 <= 50 ms")})`,
    ...(fanout.candidate === undefined
      ? []
      : [
          `  candidate at 3,000 msg/s:        ${fixed(fanout.candidate.efficiencyVsGomeet, 2)}x GoMeet's deliveries per CPU-second, ${fixed(fanout.candidate.efficiencyVsSocketio, 2)}x Socket.IO's, ` +
            `${fixed(100 * fanout.candidate.efficiencyVsCeiling, 0)} % of raw; p99 ${fixed(fanout.candidate.p99MsAt3000, 2)} ms; highest rate with p99 <= 50 ms ${reached("candidate", fanout.candidate.maxRateUnder50msP99)}`,
        ]),
  ].join("\n");
}

function connectionsTable(c: ConnectionsResult): string {
  const hb = c.heartbeat;
  return [
    "Connections (GoMeet, 3 instances)",
    `  held:                 ${whole(c.held)} of ${whole(c.target)} (target all: ${verdict(connectionsTargets(c), "connections held")}; servers report ${whole(c.heldByServerMetrics)}; ${c.failed} failed${c.errors.length > 0 ? `: ${c.errors.join("; ")}` : ""})`,
    `  opening:              ${fixed(c.rampSeconds, 1)} s (${whole(c.connectionsPerSecond)} connections/s)`,
    `  resident memory:      ${fixed(c.kbPerConnection, 1)} KB per connection (target <= 30 KB: ${verdict(connectionsTargets(c), "resident memory per connection")}); instances ${c.rssMbBefore.map((m) => fixed(m, 0)).join("/")} MB idle, ${c.rssMbHalf.map((m) => fixed(m, 0)).join("/")} at half, ${c.rssMbAfter.map((m) => fixed(m, 0)).join("/")} at ${whole(c.held)}`,
    `  Valkey memory:        ${whole(c.valkeyBytesPerConnection)} bytes per connection (presence + connection index)`,
    `  heartbeat:            ${fixed(hb.cpuMsPerRound, 0)} CPU-ms per round over all connections (${fixed(hb.cpuUsPerConnection, 1)} us each), ` +
      `${fixed(hb.corePercentAtInterval, 2)} % of one core at the ${hb.intervalMs / 1000} s interval; rounds seen per instance: ${hb.rounds.join("/")}`,
    `  open files limit:     ${whole(c.openFilesLimit)} per process (ulimit -n); the largest process here holds ~${whole(c.held / 2)} sockets`,
  ].join("\n");
}

function tokensTable(t: TokensResult): string {
  const targets = tokensTargets(t);
  const rows = [t.cached, t.signed].map((m) => [
    m.mode === "cached" ? "cached (memory hit)" : "signed (miss: Valkey GET, sign, SET)",
    whole(m.requests),
    whole(m.failed),
    whole(m.ratePerSecond),
    fixed(m.p50Ms, 2),
    fixed(m.p99Ms, 2),
    fixed(m.maxMs, 1),
    fixed(m.serverCpuUsPerRequest, 0),
    Object.entries(m.statuses)
      .map(([status, n]) => `${status}:${n}`)
      .join(" "),
  ]);
  return [
    "Tokens (POST /rooms/:id/token, spread over 3 instances; latency of the successful (2xx) answers, failures counted apart)",
    table(["mode", "requests", "failed", "rate/s", "p50 ms", "p99 ms", "max ms", "server CPU us/req", "statuses"], rows),
    "",
    `  failed requests:    ${whole(t.failed)} (target none: ${verdict(targets, "token requests failed")})`,
    `  p99 (worse mode):   ${fixed(t.p99Ms, 2)} ms of the successful answers (target <= 10 ms: ${verdict(targets, "token p99 (worse mode, successful answers)")})`,
    `  cached vs signed:   ${fixed(t.cachedVsSigned, 2)} (median latency ratio; target: cached never slower, <= 1: ${verdict(targets, "cached vs signed median latency")})`,
    ...(t.errors.length > 0 ? [`  errors: ${t.errors.join("; ")}`] : []),
  ].join("\n");
}

export function renderTables(results: BenchResults, machine: MachineInfo): string {
  const parts = [
    `GoMeet benchmark on ${machine.cores} cores / ${fixed(machine.memoryGiB, 0)} GiB / Node ${machine.node}; ` +
      `load average ${machine.loadAverageStart.map((l) => l.toFixed(2)).join(" ")} at start, ${machine.loadAverageEnd.map((l) => l.toFixed(2)).join(" ")} at end; ` +
      `${machine.nice === 0 ? "" : `nice ${machine.nice}; `}${fixed(machine.durationSeconds, 0)} s`,
    ...(machine.candidate === undefined ? [] : [`candidate: ${machine.candidate}`]),
  ];
  if (results.fanout !== undefined) parts.push(fanoutTables(results.fanout));
  if (results.connections !== undefined) parts.push(connectionsTable(results.connections));
  if (results.tokens !== undefined) parts.push(tokensTable(results.tokens));
  return `${parts.join("\n\n")}\n`;
}
