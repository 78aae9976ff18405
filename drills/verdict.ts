/**
 * Turning a drill's observation into its result: the criteria every drill shares (nothing lost,
 * nothing delivered twice, nothing foreign, every outage over) plus the drill's own.
 */
import { episodeLength, longestEpisode, type Episode } from "./load/episodes";
import type { LoadObservation } from "./load/load";
import type { RequestSample } from "./load/http-load";
import type { DrillName, DrillResult } from "./types";

export class Verdict {
  readonly problems: string[] = [];
  readonly details: string[] = [];
  /** When the fault was injected (commonChecks records it). */
  faultAt?: number;
  /** When the last outage that ended after the fault ended (commonChecks records it). */
  recoveredAt?: number;

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
    return {
      ...this.result({
        ...figures,
        lost: obs.delivery.lost,
        duplicates: obs.delivery.duplicates,
        failedRequests: obs.failedRequests.length,
      }),
      timeline: {
        startedAt: obs.startedAt,
        endedAt: obs.endedAt,
        faultAt: this.faultAt,
        recoveredAt: this.recoveredAt,
        series: obs.series,
      },
    };
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
      alerts: [],
      faultAt: this.faultAt,
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

/** Client-observed outages after a fault, in ms (Infinity: not over when the drill ended). */
export interface Outages {
  /** The longest of all. */
  overall: number;
  /** The longest of a WebSocket client (its messages not accepted or not delivered). */
  websocket: number;
  /** The longest of an HTTP stream. */
  http: number;
}

function describeEpisode(episode: Episode | undefined, faultAt: number): string {
  if (episode === undefined) return "none";
  const at = (t: number): string => `${t >= faultAt ? "+" : "-"}${(Math.abs(t - faultAt) / 1000).toFixed(2)}`;
  return `${seconds(episodeLength(episode))} (${episode.source}, ${at(episode.start)} s to ${episode.end === undefined ? "never" : `${at(episode.end)} s`} after the fault)`;
}

/**
 * The checks every drill makes on its load: nothing lost, no duplicate, no foreign message, the
 * rooms converged, every client's last message drained, every outage over. Adds the load's figures
 * to the details; returns the longest outages that ended after `faultAt`.
 */
export function commonChecks(verdict: Verdict, obs: LoadObservation, faultAt: number): Outages {
  verdict.faultAt = faultAt;
  const d = obs.delivery;
  const ws = longestEpisode(obs.wsEpisodes, faultAt);
  const http = longestEpisode(obs.httpEpisodes, faultAt);
  const outages = { websocket: episodeLength(ws), http: episodeLength(http), overall: Math.max(episodeLength(ws), episodeLength(http)) };
  const ends = [...obs.wsEpisodes, ...obs.httpEpisodes]
    .map((e) => e.end)
    .filter((end): end is number => end !== undefined && end >= faultAt);
  if (ends.length) verdict.recoveredAt = Math.max(...ends);
  verdict.detail(
    `${d.accepted} messages accepted (${d.resends} sent again after a reconnect or an error), ${obs.connections} WebSocket connections; ` +
      `${obs.samples.length} HTTP requests, ${obs.failedRequests.length} failed (${describeFailures(obs.failedRequests)})`,
  );
  verdict.detail(`longest outage: WebSocket ${describeEpisode(ws, faultAt)}; HTTP ${describeEpisode(http, faultAt)}`);
  verdict.require(d.lost === 0, `${d.lost} message(s) lost`);
  verdict.require(d.duplicates === 0, `${d.duplicates} duplicate deliveries`);
  verdict.require(d.foreign === 0, `${d.foreign} foreign message frame(s) in the drill's rooms`);
  verdict.require(obs.converged, "the rooms did not converge within 5 s after the load stopped");
  verdict.require(obs.undrained.length === 0, `the last message of ${obs.undrained.join(", ")} was never acknowledged`);
  const unrecovered = [...obs.wsEpisodes, ...obs.httpEpisodes].filter((e) => e.end === undefined).map((e) => e.source);
  verdict.require(unrecovered.length === 0, `still without service when the drill ended: ${unrecovered.join(", ")}`);
  for (const example of d.examples) verdict.detail(`  ${example}`);
  return outages;
}
