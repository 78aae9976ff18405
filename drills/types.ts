/** The drills' shared vocabulary: names, scale, context and result. */
import type { Cluster } from "../harness/cluster/cluster";
import type { TwoRegionCluster } from "../harness/region/two-regions";
import type { LoadSeries } from "./load/time-series";

/** An alert that started firing during a drill, with the seconds from the fault to the first poll that saw it. */
export interface FiredAlert {
  name: string;
  firedAfterSeconds: number;
}

/** What a drill may ask of the Prometheus watch the runner keeps for it (alerts.ts AlertWatch). */
export interface DrillAlerts {
  /** When `name` is first seen firing, epoch ms; undefined if it does not fire within `timeoutMs`. */
  waitFiring(name: string, timeoutMs: number): Promise<number | undefined>;
}

export const DRILL_NAMES = [
  "instance-kill",
  "rolling-restart",
  "valkey-failover",
  "postgres-replica-loss",
  "postgres-primary-loss",
  "livekit-outage",
  "bad-input",
  "postgres-failover",
  "valkey-primary-hang",
  "region-loss",
] as const;

/** Drills that run on the two-region cluster (harness/region/two-regions.ts) instead of the single-region one. */
export const TWO_REGION_DRILLS: readonly DrillName[] = ["region-loss"];

export type DrillName = (typeof DRILL_NAMES)[number];

/** How much load each drill puts through the cluster. */
export interface DrillScale {
  rooms: number;
  clientsPerRoom: number;
  /** Each client sends one message per interval (waiting for the previous one's acknowledgement). */
  sendIntervalMs: number;
  /** Malformed inputs in the bad-input drill. */
  badInputs: number;
  /** How long the load runs before the fault is injected. */
  warmupMs: number;
}

export const FULL_SCALE: DrillScale = { rooms: 4, clientsPerRoom: 3, sendIntervalMs: 100, badInputs: 10_000, warmupMs: 1500 };

export interface DrillContext {
  cluster: Cluster;
  scale: DrillScale;
  /** A progress line (stderr for the CLI). */
  progress(line: string): void;
  /** The cluster Prometheus's alerts, watched for the drill's duration. */
  alerts: DrillAlerts;
  /** The two-region cluster, for the drills in TWO_REGION_DRILLS (`cluster` is then region a seen through the global endpoint). */
  regions?: TwoRegionCluster;
}

/** One drill's outcome; the first eight fields are the `--json` shape. */
export interface DrillResult {
  name: DrillName;
  /** Client-observed recovery time; null if the service never recovered during the drill. */
  recoverySeconds: number | null;
  lost: number;
  duplicates: number;
  failedRequests: number;
  degradedSeen: boolean;
  passed: boolean;
  /** The service's alerts that fired during the drill, seconds after the fault (set by the runner). */
  alerts: FiredAlert[];
  /** When the fault was injected (epoch ms; set by commonChecks): alerts are timed from it. */
  faultAt?: number;
  /** Why it failed (empty when passed). */
  problems: string[];
  /** The figures behind the verdict, for the readable report. */
  details: string[];
  /** The load over time with the fault and the recovery, for the timeline (`--report`); absent if the drill never ran its load. */
  timeline?: DrillTimeline;
  /** A drill's own figures, added to its `--json` object beside the fields above (e.g. postgres-failover's writeOutageSeconds). */
  figures?: Record<string, DrillFigure>;
}

/** What a drill's timeline shows (epoch ms); the alerts come from the result's `alerts`. */
export interface DrillTimeline {
  startedAt: number;
  endedAt: number;
  faultAt?: number;
  /** When the last client-observed outage after the fault ended (service whole again). */
  recoveredAt?: number;
  series: LoadSeries;
}

export type DrillFigure = number | boolean | string | null | { [key: string]: number | null };

export interface Drill {
  name: DrillName;
  /** One line: the fault and what passing means. */
  description: string;
  run(ctx: DrillContext): Promise<DrillResult>;
}
