/**
 * Polls every instance's /readyz directly (not through the load balancer) while a drill runs, so
 * the drill can tell whether, and when, each instance reported the degraded state.
 */
import { fetchReadiness, type ReadinessReply } from "../../harness/cluster/app-instance";

export interface ReadinessSample {
  instance: string;
  at: number;
  /** 0: no answer (instance down or hung). */
  httpStatus: number;
  status?: string;
  draining?: boolean;
  dependencies?: ReadinessReply["dependencies"];
}

const NOT_HEALTHY = new Set(["degraded", "unhealthy"]);

export class ReadinessWatch {
  readonly samples: ReadinessSample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly instances: ReadonlyArray<{ id: string; metricsUrl: string }>,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.running = true;
    this.loops = this.instances.map((instance) => this.loop(instance));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Whether any instance that answered reported "degraded" or "unhealthy" between `from` and `to`. */
  degradedSeen(from: number, to = Infinity): boolean {
    return this.samples.some((s) => s.at >= from && s.at <= to && s.status !== undefined && NOT_HEALTHY.has(s.status));
  }

  /** The time of the first sample of `instance` after `from` that satisfies `predicate`. */
  firstTime(instance: string, from: number, predicate: (sample: ReadinessSample) => boolean): number | undefined {
    return this.samples.find((s) => s.instance === instance && s.at >= from && predicate(s))?.at;
  }

  private async loop(instance: { id: string; metricsUrl: string }): Promise<void> {
    while (this.running) {
      const began = Date.now();
      let sample: ReadinessSample;
      try {
        const reply = await fetchReadiness(instance.metricsUrl, 1000);
        sample = {
          instance: instance.id,
          at: Date.now(),
          httpStatus: reply.httpStatus,
          status: reply.status,
          draining: reply.draining,
          dependencies: reply.dependencies,
        };
      } catch {
        sample = { instance: instance.id, at: Date.now(), httpStatus: 0 };
      }
      this.samples.push(sample);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.intervalMs - (Date.now() - began))));
    }
  }
}
