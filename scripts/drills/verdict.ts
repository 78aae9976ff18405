/**
 * Turning a drill's observation into its result: the criteria every drill shares (nothing lost,
 * nothing delivered twice, nothing foreign, every outage over) plus the drill's own.
 */
import { longestOutage } from "./load/episodes";
import type { LoadObservation } from "./load/load";
import type { RequestSample } from "./load/http-load";
import type { DrillName, DrillResult } from "./types";

export class Verdict {
  readonly problems: string[] = [];
  readonly details: string[] = [];

  constructor(readonly name: DrillName) {}

  /** Records `problem` unless `ok`. */
  require(ok: boolean, problem: string): void {
    if (!ok) this.problems.push(problem);
  }

  detail(text: string): void {
    this.details.push(text);
  }

  /** The result with the load's lost / duplicates / failed-request counts. */
  resultFromLoad(obs: LoadObservation, figures: { recoveryMs: number; degradedSeen: boolean }): DrillResult {
    return this.result({ ...figures, lost: obs.delivery.lost, duplicates: obs.delivery.duplicates, failedRequests: obs.failedRequests.length });
  }

  result(figures: { recoveryMs: number; lost: number; duplicates: number; failedRequests: number; degradedSeen: boolean }): DrillResult {
    return {
      name: this.name,
      recoverySeconds: Number.isFinite(figures.recoveryMs) ? Math.round(figures.recoveryMs / 10) / 100 : null,
      lost: figures.lost,
      duplicates: figures.duplicates,
      failedRequests: figures.failedRequests,
      degradedSeen: figures.degradedSeen,
      passed: this.problems.length === 0,
      problems: [...this.problems],
      details: [...this.details],
    };
  }
}

/** "write: 3× database_unavailable, 1× HTTP 502" */
export function describeFailures(samples: readonly RequestSample[]): string {
  if (samples.length === 0) return "none";
  const counts = new Map<string, number>();
  for (const s of samples) {
    const key = `${s.stream}: ${s.error ?? `HTTP ${s.status}`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n}× ${key}`).join(", ");
}

export const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "never");

/**
 * The checks every drill makes on its load: nothing lost, no duplicate, no foreign message, the
 * rooms converged, every client's last message drained, every outage over. Adds the load's figures
 * to the details; returns the longest outage that ended after `faultAt`.
 */
export function commonChecks(verdict: Verdict, obs: LoadObservation, faultAt: number): number {
  const d = obs.delivery;
  const outage = longestOutage(obs.episodes, faultAt);
  const requests = obs.samples.length;
  verdict.detail(
    `${d.accepted} messages accepted (${d.resends} sent again after a reconnect), ${obs.connections} WebSocket connections; ` +
      `${requests} HTTP requests, ${obs.failedRequests.length} failed (${describeFailures(obs.failedRequests)})`,
  );
  verdict.require(d.lost === 0, `${d.lost} message(s) lost`);
  verdict.require(d.duplicates === 0, `${d.duplicates} duplicate deliveries`);
  verdict.require(d.foreign === 0, `${d.foreign} foreign message frame(s) in the drill's rooms`);
  verdict.require(obs.converged, "the rooms did not converge within 5 s after the load stopped");
  verdict.require(obs.undrained.length === 0, `the last message of ${obs.undrained.join(", ")} was never acknowledged`);
  verdict.require(Number.isFinite(outage), `a client was still without service when the drill ended: ${obs.episodes.filter((e) => e.end === undefined).map((e) => e.source).join(", ")}`);
  for (const example of d.examples) verdict.detail(`  ${example}`);
  return outage;
}
