/**
 * The failover controller: watches the primary region through a RegionLossDetector and, once the region is declared
 * lost, either fails over by itself (automatic) or only says so (manual: the metrics below, for an alert and a human
 * running `npm run region-failover`). It fails over at most once: a journal that records a completed failover keeps it
 * from acting again (never a second failover, never back by itself); a journal with a failover that stopped part-way is
 * resumed (automatic) or reported (manual). A failed run is retried every `retryMs` (the steps are idempotent).
 *
 * Metrics (prom-client, on the registry passed in):
 *   gomeet_region_primary_up{region}                1 while fewer than a quorum of vantage points see the primary down
 *   gomeet_region_vantage_up{region,vantage}        each vantage point's last answer
 *   gomeet_region_lost{region}                      1 once the detector declared the region lost (a quorum for the window)
 *   gomeet_failover_state{state}                    1 for the current state: watching, suspect, lost, failing_over, failed_over, failed
 *   gomeet_failover_mode{mode}                      1 for automatic or manual
 *   gomeet_failover_runs_total{result}              failover runs: completed, failed
 *   gomeet_failover_step_duration_seconds{step}     the last run's duration of each step
 *   gomeet_failover_completed_timestamp_seconds     when the failover completed (0: never)
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { RegionLossDetector, type DetectorOptions, type DetectorVerdict } from "./detector";
import { runFailover } from "./failover";
import type { FailoverDriver, FailoverJournal, FailoverLog, FailoverRecord } from "./types";

export type FailoverMode = "automatic" | "manual";
export const FAILOVER_STATES = ["watching", "suspect", "lost", "failing_over", "failed_over", "failed"] as const;
export type FailoverState = (typeof FAILOVER_STATES)[number];

export interface ControllerOptions {
  mode: FailoverMode;
  /** The primary region (watched). */
  from: string;
  /** The standby region (the target). */
  to: string;
  driver: FailoverDriver;
  journal: FailoverJournal;
  detector: DetectorOptions;
  registry: Registry;
  log: FailoverLog;
  /** Time between two attempts of a failover that failed (default 2 s). */
  retryMs?: number;
}

export interface ControllerEvent {
  state: FailoverState;
  at: number;
  detail?: string;
}

export class FailoverController {
  private readonly detector: RegionLossDetector;
  private state: FailoverState = "watching";
  private running: Promise<void> | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Every state change, oldest first (the drills read it). */
  readonly events: ControllerEvent[] = [];
  private readonly metrics;

  constructor(private readonly options: ControllerOptions) {
    this.detector = new RegionLossDetector(options.driver.vantagePoints(options.from), options.detector);
    const registers = [options.registry];
    this.metrics = {
      primaryUp: new Gauge({
        name: "gomeet_region_primary_up",
        help: "1 while fewer than a quorum of vantage points see the primary region down",
        labelNames: ["region"] as const,
        registers,
      }),
      vantageUp: new Gauge({
        name: "gomeet_region_vantage_up",
        help: "Each vantage point's last view of the primary region (1 serving, 0 down)",
        labelNames: ["region", "vantage"] as const,
        registers,
      }),
      lost: new Gauge({
        name: "gomeet_region_lost",
        help: "1 once the detector declared the primary region lost (a quorum of vantage points for the whole window)",
        labelNames: ["region"] as const,
        registers,
      }),
      state: new Gauge({
        name: "gomeet_failover_state",
        help: "1 for the controller's current state",
        labelNames: ["state"] as const,
        registers,
      }),
      mode: new Gauge({ name: "gomeet_failover_mode", help: "1 for the controller's mode", labelNames: ["mode"] as const, registers }),
      runs: new Counter({
        name: "gomeet_failover_runs_total",
        help: "Failover runs by result",
        labelNames: ["result"] as const,
        registers,
      }),
      stepDuration: new Gauge({
        name: "gomeet_failover_step_duration_seconds",
        help: "The last failover run's duration of each step",
        labelNames: ["step"] as const,
        registers,
      }),
      completedAt: new Gauge({
        name: "gomeet_failover_completed_timestamp_seconds",
        help: "When the failover completed (Unix seconds; 0: never)",
        registers,
      }),
    };
    for (const mode of ["automatic", "manual"] as const) this.metrics.mode.set({ mode }, mode === options.mode ? 1 : 0);
    this.metrics.primaryUp.set({ region: options.from }, 1);
    this.metrics.lost.set({ region: options.from }, 0);
    this.metrics.completedAt.set(0);
    for (const result of ["completed", "failed"]) this.metrics.runs.inc({ result }, 0);
    this.setState("watching");
  }

  get currentState(): FailoverState {
    return this.state;
  }

  /** Reads the journal, then watches (or resumes a failover that stopped part-way, in automatic mode). */
  async start(): Promise<void> {
    const record = await this.options.journal.read();
    if (record?.completedAt !== undefined) {
      this.markCompleted(record);
      this.options.log.info(
        { from: record.from, to: record.to },
        "failover controller: the journal records a completed failover; not watching",
      );
      return;
    }
    if (record !== undefined) {
      this.setState("failed", `a failover ${record.from} -> ${record.to} stopped part-way (${record.lastError ?? "no error recorded"})`);
      if (this.options.mode === "automatic") this.failOver();
      return;
    }
    this.detector.start((verdict) => this.onVerdict(verdict));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    await this.detector.stop();
    await this.running?.catch(() => undefined);
  }

  /** Resolves once the controller is in `state` (or rejects after `timeoutMs`). */
  async waitFor(state: FailoverState, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.state !== state) {
      if (Date.now() > deadline) throw new Error(`failover controller: not ${state} within ${timeoutMs} ms (now ${this.state})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private onVerdict(verdict: DetectorVerdict): void {
    const region = this.options.from;
    for (const vantage of verdict.vantagePoints) this.metrics.vantageUp.set({ region, vantage: vantage.name }, vantage.up === true ? 1 : 0);
    const quorum = this.options.detector.quorum ?? verdict.vantagePoints.length;
    this.metrics.primaryUp.set({ region }, verdict.down >= quorum ? 0 : 1);
    if (!["watching", "suspect"].includes(this.state)) return;
    if (verdict.lost) {
      this.metrics.lost.set({ region }, 1);
      const detail = verdict.vantagePoints.map((v) => `${v.name}: ${v.error ?? (v.up === true ? "up" : "down")}`).join("; ");
      this.setState("lost", detail);
      this.options.log.warn({ region, vantagePoints: verdict.vantagePoints }, `region ${region} declared lost (${detail})`);
      void this.detector.stop();
      if (this.options.mode === "automatic") this.failOver();
      else this.options.log.warn({ region }, "manual mode: not failing over; run the failover by hand (runbooks)");
      return;
    }
    this.setState(verdict.down > 0 ? "suspect" : "watching");
  }

  private failOver(): void {
    if (this.stopped || this.running !== undefined) return;
    this.setState("failing_over");
    const { driver, journal, log, from, to } = this.options;
    this.running = runFailover(driver, {
      from,
      to,
      journal,
      log,
      onStep: (step, phase, durationMs) => {
        if (phase !== "start" && durationMs !== undefined) this.metrics.stepDuration.set({ step }, durationMs / 1000);
      },
    })
      .then((result) => {
        this.metrics.runs.inc({ result: "completed" });
        if (result.record !== undefined) this.markCompleted(result.record);
      })
      .catch((error: unknown) => {
        this.metrics.runs.inc({ result: "failed" });
        this.setState("failed", error instanceof Error ? error.message : String(error));
        if (!this.stopped) {
          this.retryTimer = setTimeout(() => this.failOver(), this.options.retryMs ?? 2000);
        }
      })
      .finally(() => {
        this.running = undefined;
      });
  }

  private markCompleted(record: FailoverRecord): void {
    this.metrics.lost.set({ region: record.from }, 1);
    this.metrics.primaryUp.set({ region: record.from }, 0);
    this.metrics.completedAt.set(Date.parse(record.completedAt ?? new Date().toISOString()) / 1000);
    for (const step of record.steps) this.metrics.stepDuration.set({ step: step.step }, step.durationMs / 1000);
    this.setState("failed_over", `${record.from} -> ${record.to}`);
  }

  private setState(state: FailoverState, detail?: string): void {
    if (state === this.state && this.events.length > 0 && detail === undefined) return;
    this.state = state;
    this.events.push({ state, at: Date.now(), ...(detail === undefined ? {} : { detail }) });
    for (const s of FAILOVER_STATES) this.metrics.state.set({ state: s }, s === state ? 1 : 0);
  }
}
