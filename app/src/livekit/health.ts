/**
 * Health of each LiveKit deployment, as livekit-server reports it: `GET <http(s) form of url>/`
 * answers 200 "OK" when healthy. Anything else, or no answer within the timeout, is unhealthy.
 */
import { EventEmitter } from "node:events";
import type { LivekitDeployment } from "../config";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { errorMessage } from "../errors";
import { Periodic } from "../periodic";

export interface DeploymentHealth {
  name: string;
  url: string;
  healthy: boolean;
  checkedAt?: string;
  latencyMs?: number;
  error?: string;
}

/** ws://host → http://host/, wss://host → https://host/ (livekit-server serves its health check on the same port). */
export function healthUrl(url: string): string {
  const parsed = new URL(url);
  parsed.protocol = parsed.protocol === "wss:" ? "https:" : "http:";
  parsed.pathname = "/";
  parsed.search = "";
  return parsed.toString();
}

interface LivekitHealthEvents {
  /** A deployment changed state (healthy ↔ unhealthy). */
  change: [name: string, healthy: boolean];
}

export class LivekitHealth extends EventEmitter<LivekitHealthEvents> {
  private readonly state = new Map<string, DeploymentHealth>();
  private readonly checks: Periodic;

  constructor(
    private readonly deployments: readonly LivekitDeployment[],
    private readonly options: { intervalMs: number; timeoutMs: number },
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    super();
    for (const d of deployments) this.state.set(d.name, { name: d.name, url: d.url, healthy: false });
    this.checks = new Periodic(options.intervalMs, () => this.checkAll());
  }

  async start(): Promise<void> {
    await this.checkAll();
    this.checks.start();
  }

  async stop(): Promise<void> {
    await this.checks.stop();
  }

  isHealthy(name: string): boolean {
    return this.state.get(name)?.healthy === true;
  }

  /** Every deployment in configuration order, with its current health. */
  snapshot(): DeploymentHealth[] {
    return this.deployments.map((d) => ({ ...(this.state.get(d.name) as DeploymentHealth) }));
  }

  private async checkAll(): Promise<void> {
    await Promise.all(this.deployments.map((d) => this.check(d)));
  }

  private async check(deployment: LivekitDeployment): Promise<void> {
    const started = performance.now();
    let healthy = false;
    let error: string | undefined;
    try {
      const response = await fetch(healthUrl(deployment.url), { signal: AbortSignal.timeout(this.options.timeoutMs) });
      const body = (await response.text()).trim();
      healthy = response.status === 200 && body === "OK";
      if (!healthy) error = `GET / answered ${response.status} ${JSON.stringify(body.slice(0, 80))}`;
    } catch (failure) {
      error = errorMessage(failure);
    }
    const previous = this.state.get(deployment.name);
    this.state.set(deployment.name, {
      name: deployment.name,
      url: deployment.url,
      healthy,
      checkedAt: new Date().toISOString(),
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
      error,
    });
    this.metrics.dependencyUp.set({ dependency: "livekit", name: deployment.name }, healthy ? 1 : 0);
    if (previous?.healthy !== healthy) {
      if (previous?.checkedAt !== undefined || !healthy)
        this.logger[healthy ? "info" : "warn"](
          { deployment: deployment.name, error },
          `LiveKit deployment ${healthy ? "healthy" : "unhealthy"}`,
        );
      this.emit("change", deployment.name, healthy);
    }
  }
}
