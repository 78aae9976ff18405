/**
 * The benchmark's targets and whether a run met them: the one judgement behind the tables' met/MISSED and
 * `npm run bench -- --check` (exit 1 when any target of the parts that ran is missed). A figure that could
 * not be measured (NaN: a system did not run at the rate, no successful answer) misses its target.
 */
import type { ConnectionsResult } from "./connections";
import type { FanoutResult } from "./fanout";
import type { TokensResult } from "./tokens";

export interface TargetVerdict {
  part: "fanout" | "connections" | "tokens";
  /** What is judged, e.g. "p99 at 3,000 msg/s". */
  name: string;
  /** The target, e.g. "<= 10 ms". */
  target: string;
  met: boolean;
}

/** Fan-out: deliveries per CPU-second against Socket.IO and the raw ceiling, p99 at 3,000 msg/s, the highest rate held. */
export function fanoutTargets(fanout: FanoutResult): TargetVerdict[] {
  const { ours, socketio } = fanout.maxRateUnder50msP99;
  return [
    {
      part: "fanout",
      name: "deliveries per CPU-second vs Socket.IO at 3,000 msg/s",
      target: ">= 2x",
      met: fanout.efficiencyVsSocketio >= 2,
    },
    {
      part: "fanout",
      name: "deliveries per CPU-second vs raw ws at 3,000 msg/s",
      target: ">= 70 %",
      met: fanout.efficiencyVsCeiling >= 0.7,
    },
    { part: "fanout", name: "p99 at 3,000 msg/s", target: "<= 10 ms", met: fanout.p99MsAt3000 <= 10 },
    { part: "fanout", name: "highest rate with p99 <= 50 ms", target: "at least Socket.IO's", met: ours > 0 && ours >= socketio },
  ];
}

export function connectionsTargets(c: ConnectionsResult): TargetVerdict[] {
  return [
    { part: "connections", name: "connections held", target: `all ${c.target}`, met: c.held >= c.target },
    { part: "connections", name: "resident memory per connection", target: "<= 30 KB", met: c.kbPerConnection <= 30 },
  ];
}

/** Tokens: latency of the successful answers, and no failed request (a fast failure is no fast answer). */
export function tokensTargets(t: TokensResult): TargetVerdict[] {
  return [
    { part: "tokens", name: "token requests failed", target: "none", met: t.failed === 0 && t.cached.requests + t.signed.requests > 0 },
    { part: "tokens", name: "token p99 (worse mode, successful answers)", target: "<= 10 ms", met: t.p99Ms <= 10 },
    { part: "tokens", name: "cached vs signed median latency", target: "<= 1 (cached never slower)", met: t.cachedVsSigned <= 1 },
  ];
}

/** Every target of the parts that ran. */
export function benchTargets(results: { fanout?: FanoutResult; connections?: ConnectionsResult; tokens?: TokensResult }): TargetVerdict[] {
  return [
    ...(results.fanout === undefined ? [] : fanoutTargets(results.fanout)),
    ...(results.connections === undefined ? [] : connectionsTargets(results.connections)),
    ...(results.tokens === undefined ? [] : tokensTargets(results.tokens)),
  ];
}

export function verdictWord(met: boolean): string {
  return met ? "met" : "MISSED";
}

/** The `--check` summary: one line per missed target, or undefined when every target was met. */
export function missedSummary(verdicts: readonly TargetVerdict[]): string | undefined {
  const missed = verdicts.filter((v) => !v.met);
  if (missed.length === 0) return undefined;
  return [`${missed.length} target(s) MISSED:`, ...missed.map((v) => `  ${v.part}: ${v.name} (target ${v.target})`)].join("\n");
}
