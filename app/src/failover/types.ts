/**
 * The region-failover core's vocabulary, shared by the drivers (DigitalOcean: app/src/failover, local: harness/region),
 * the controller and the CLI (see /docs/runbooks.md and /docs/local-cluster-and-drills.md).
 *
 * A failover from region `from` to region `to` is five steps, always in this order:
 *   fence        nothing routes users or writes to `from` again, even when it comes back
 *   promote      the read-only database node in `to` becomes the primary
 *   switch-entry the global entry (GLB / DNS; HAProxy locally) points at `to` only
 *   restore      the pool and a standby node on the new primary (cloud); a no-op where it does not apply
 *   confirm      a synthetic write and a WebSocket join through the global entry
 * Every driver step must be idempotent: a run that failed part-way is re-run from the top.
 */

export type FailoverStepName = "fence" | "promote" | "switch-entry" | "restore" | "confirm";

/** The steps in the order they run. */
export const FAILOVER_STEPS: readonly FailoverStepName[] = ["fence", "promote", "switch-entry", "restore", "confirm"];

export interface VantagePoint {
  readonly name: string;
  /** true: this vantage point sees the region serving. A rejection or a timeout (the signal aborts) counts as "down". */
  probe(signal: AbortSignal): Promise<boolean>;
}

export interface StepPlan {
  step: FailoverStepName;
  description: string;
  /** What the step sends, e.g. "PUT /v2/databases/{uuid}/replicas/{name}/promote". */
  requests: string[];
}

export interface FailoverDriver {
  /** "digitalocean" | "local" */
  readonly name: string;
  /** Independent views of one region's health. */
  vantagePoints(region: string): VantagePoint[];
  /** What each step would do (--dry-run prints it). */
  plan(from: string, to: string): StepPlan[];
  /** Nothing routes users or writes to `from` again, even when it returns. */
  fence(from: string): Promise<void>;
  /** The read-only node in `to` becomes the primary. */
  promote(to: string): Promise<void>;
  /** The global entry (GLB / DNS) points at `to` only. */
  switchEntry(to: string): Promise<void>;
  /** Pool + standby node on the new primary (cloud); no-op where n/a. */
  restore(to: string): Promise<void>;
  /** A synthetic write and a WebSocket join through the global entry. */
  confirm(to: string): Promise<void>;
}

/** What the failover core logs through (a pino Logger fits). */
export interface FailoverLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** One step of a recorded failover. */
export interface RecordedStep {
  step: FailoverStepName;
  /** ISO time the step finished successfully. */
  doneAt: string;
  durationMs: number;
}

/** The record of a failover: written when it starts, after every step, and when it completes. */
export interface FailoverRecord {
  from: string;
  to: string;
  driver: string;
  startedAt: string;
  /** Steps done so far, in order. */
  steps: RecordedStep[];
  /** Set once every step is done. */
  completedAt?: string;
  /** The last failure, `<step>: <message>`, until a later run completes. */
  lastError?: string;
}

/**
 * Where a failover is recorded, so that it happens once: a controller that finds a record never starts another
 * failover by itself (neither again nor back). The local cluster keeps it in a file; in the cloud a ConfigMap or
 * a file on a volume. `read` resolves undefined when nothing was ever recorded.
 */
export interface FailoverJournal {
  read(): Promise<FailoverRecord | undefined>;
  write(record: FailoverRecord): Promise<void>;
}
