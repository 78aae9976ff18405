/**
 * One app instance of the local cluster: the app's main.js (built by app-build.ts) as a managed
 * child process on a fixed port, so that it can be SIGKILLed, stopped gracefully (SIGTERM) and
 * started again at the same address behind the load balancer.
 */
import path from "node:path";
import { spawnManaged, waitForReady, type ManagedProcess } from "../process";

export const REPO_ROOT = path.resolve(__dirname, "../..");
const LOOPBACK = "127.0.0.1";
/** Three instances starting together on two busy cores take a few seconds. */
const READY_TIMEOUT_MS = 30_000;
/** SIGTERM drains (SHUTDOWN_DRAIN_SECONDS), closes sockets with a 1 s grace, then closes pools. */
const STOP_TIMEOUT_MS = 30_000;

/** What GET /readyz answers (the part the cluster looks at). */
export interface ReadinessReply {
  httpStatus: number;
  status?: string;
  draining?: boolean;
  dependencies?: {
    redis?: { healthy: boolean };
    postgres?: { primary: { healthy: boolean }; replicas: Array<{ healthy: boolean }> };
    livekit?: Array<{ name: string; healthy: boolean }>;
  };
}

/**
 * GET <url>/readyz; rejects when the instance does not answer within `timeoutMs`. Pass the instance's `metricsUrl` for the
 * dependencies (the public port's /readyz carries the status only).
 */
export async function fetchReadiness(url: string, timeoutMs = 1000): Promise<ReadinessReply> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await response.text();
  let body: Partial<ReadinessReply> = {};
  try {
    body = JSON.parse(text) as Partial<ReadinessReply>;
  } catch {
    // Not JSON: only the HTTP status says anything.
  }
  return { httpStatus: response.status, status: body.status, draining: body.draining, dependencies: body.dependencies };
}

export class AppInstance {
  readonly url: string;
  /** /metrics and the detailed /readyz (METRICS_PORT), which the load balancer does not reach. */
  readonly metricsUrl: string;
  private current: ManagedProcess | undefined;
  private readonly exited = new WeakSet<ManagedProcess>();
  /** Exit code of the last stop() (null: ended by a signal). */
  lastExitCode: number | null | undefined;

  constructor(
    readonly id: string,
    readonly port: number,
    readonly metricsPort: number,
    /** The environment it runs with (see app/src/config.ts). */
    readonly env: Readonly<Record<string, string>>,
    /** The app's compiled main.js. */
    private readonly entry: string,
  ) {
    this.url = `http://${LOOPBACK}:${port}`;
    this.metricsUrl = `http://${LOOPBACK}:${metricsPort}`;
  }

  /** The current process; throws if the instance was never started. */
  get process(): ManagedProcess {
    if (this.current === undefined) throw new Error(`app instance ${this.id} has not been started`);
    return this.current;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Starts the process; resolves once /readyz answers 200 "healthy" (every dependency up). */
  /**
   * `until: "serving"` waits for /readyz 200 whatever the status (an instance started without its database on
   * purpose: a fenced region coming back).
   */
  async start(options: { until?: "healthy" | "serving" } = {}): Promise<void> {
    if (this.running) throw new Error(`app instance ${this.id} is already running (pid ${this.pid})`);
    const proc = spawnManaged(`app-${this.id}`, process.execPath, ["--enable-source-maps", this.entry], {
      env: { ...this.env },
      cwd: REPO_ROOT,
    });
    this.current = proc;
    void proc.exited.then(() => this.exited.add(proc));
    await waitForReady(
      proc,
      async () => {
        const readiness = await fetchReadiness(this.metricsUrl, 500);
        return readiness.httpStatus === 200 && (options.until === "serving" || readiness.status === "healthy");
      },
      {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 50,
        what: `app instance ${this.id} to report ${options.until === "serving" ? "ready" : "healthy"} on ${this.metricsUrl}/readyz`,
      },
    );
  }

  /** SIGKILL, like a crashed node: no drain, no presence cleanup. */
  async kill(): Promise<void> {
    await this.process.kill();
    this.lastExitCode = null;
  }

  /** SIGTERM and wait for the graceful shutdown; SIGKILL if it takes longer than `timeoutMs`. Returns the exit code. */
  async stop(timeoutMs = STOP_TIMEOUT_MS): Promise<number | null> {
    const proc = this.process;
    await proc.stop(timeoutMs);
    this.lastExitCode = await proc.exited;
    return this.lastExitCode;
  }

  /** Whether the current process is running (started and not exited). */
  get running(): boolean {
    return this.current !== undefined && !this.exited.has(this.current);
  }

  /** The last lines of the current process's output. */
  logs(): string {
    return this.current?.logs() ?? "";
  }
}
