/**
 * Region-loss detection: a region is declared lost only when a quorum of independent vantage points (all of them by
 * default) have each seen it down continuously for `windowMs`. Every vantage point is probed every `intervalMs`, each
 * probe bounded by `probeTimeoutMs` (a timeout or an error counts as down); one success of a vantage point resets its
 * streak. Nothing here acts: the controller decides what a loss means (automatic or manual mode).
 */
import type { VantagePoint } from "./types";

export interface DetectorOptions {
  /** How long a vantage point must see the region down without a single success. */
  windowMs: number;
  /** Time between two probes of every vantage point. */
  intervalMs: number;
  /** A probe slower than this counts as down. */
  probeTimeoutMs: number;
  /** How many vantage points must agree (default: all of them). */
  quorum?: number;
  /** The clock (tests). */
  now?: () => number;
}

export interface VantageState {
  name: string;
  /** The last probe's answer (undefined before the first). */
  up: boolean | undefined;
  /** Since when (ms, the detector's clock) this vantage point has seen the region down without a success; undefined while up. */
  downSince: number | undefined;
  /** The last probe's error, when it failed rather than answered "down". */
  error?: string;
}

export interface DetectorVerdict {
  /** true once `quorum` vantage points have each seen the region down for `windowMs`. */
  lost: boolean;
  /** How many vantage points see it down right now (whatever the window). */
  down: number;
  vantagePoints: VantageState[];
}

export class DetectorConfigError extends Error {}

export function validateDetectorOptions(options: DetectorOptions, vantagePoints: number): Required<Omit<DetectorOptions, "now">> {
  const quorum = options.quorum ?? vantagePoints;
  const problems: string[] = [];
  if (vantagePoints < 1) problems.push("at least one vantage point is required");
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > vantagePoints)
    problems.push(`quorum must be an integer from 1 to the number of vantage points (${vantagePoints}), got ${String(quorum)}`);
  for (const key of ["windowMs", "intervalMs", "probeTimeoutMs"] as const) {
    const value = options[key];
    if (!Number.isFinite(value) || value <= 0) problems.push(`${key} must be a positive number of milliseconds, got ${String(value)}`);
  }
  if (options.probeTimeoutMs > options.intervalMs)
    problems.push(`probeTimeoutMs (${options.probeTimeoutMs}) must not exceed intervalMs (${options.intervalMs})`);
  if (problems.length > 0) throw new DetectorConfigError(`region-loss detector: ${problems.join("; ")}`);
  return { windowMs: options.windowMs, intervalMs: options.intervalMs, probeTimeoutMs: options.probeTimeoutMs, quorum };
}

export class RegionLossDetector {
  private readonly settings: Required<Omit<DetectorOptions, "now">>;
  private readonly now: () => number;
  private readonly states: VantageState[];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly vantagePoints: readonly VantagePoint[],
    options: DetectorOptions,
  ) {
    this.settings = validateDetectorOptions(options, vantagePoints.length);
    this.now = options.now ?? Date.now;
    this.states = vantagePoints.map((v) => ({ name: v.name, up: undefined, downSince: undefined }));
  }

  /** Probes every vantage point once (in parallel) and returns the verdict after it. */
  async probeOnce(): Promise<DetectorVerdict> {
    await Promise.all(this.vantagePoints.map((vantage, index) => this.probe(vantage, this.states[index] as VantageState)));
    return this.verdict();
  }

  /** The verdict from the probes so far. */
  verdict(): DetectorVerdict {
    const now = this.now();
    const down = this.states.filter((s) => s.downSince !== undefined);
    const longEnough = down.filter((s) => now - (s.downSince as number) >= this.settings.windowMs);
    return { lost: longEnough.length >= this.settings.quorum, down: down.length, vantagePoints: this.states.map((s) => ({ ...s })) };
  }

  /** Probes every `intervalMs` and calls `onVerdict` after each round (probes never overlap). */
  start(onVerdict: (verdict: DetectorVerdict) => void | Promise<void>): void {
    this.stopped = false;
    const round = async (): Promise<void> => {
      const verdict = await this.probeOnce();
      await onVerdict(verdict);
    };
    const schedule = (delay: number): void => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        const began = this.now();
        this.running = round().finally(() => {
          this.running = undefined;
          schedule(Math.max(0, this.settings.intervalMs - (this.now() - began)));
        });
      }, delay);
    };
    schedule(0);
  }

  /** Stops probing and waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private async probe(vantage: VantagePoint, state: VantageState): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`no answer within ${this.settings.probeTimeoutMs} ms`)),
      this.settings.probeTimeoutMs,
    );
    let up: boolean;
    let error: string | undefined;
    try {
      up = await Promise.race([
        vantage.probe(controller.signal),
        new Promise<boolean>((_, reject) =>
          controller.signal.addEventListener("abort", () => reject(controller.signal.reason as Error), { once: true }),
        ),
      ]);
    } catch (failure) {
      up = false;
      error = failure instanceof Error ? failure.message : String(failure);
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    const now = this.now();
    state.up = up;
    state.error = error;
    if (up) state.downSince = undefined;
    else state.downSince ??= now;
  }
}
