/**
 * The parent side of the client workers: forks them (TypeScript through tsx), sends requests and
 * matches replies, and stops them. A worker exits by itself when this process goes away (IPC
 * disconnect), so none outlives the benchmark.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import {
  WORKER_JWT_SECRET_ENV,
  WORKER_READY,
  type CountsReply,
  type HttpLoadReply,
  type HttpLoadRequest,
  type OpenReply,
  type OpenRequest,
  type WindowReport,
  type WorkerReply,
  type WorkerRequest,
} from "./worker-protocol";

const WORKER_ENTRY = path.join(__dirname, "client-worker.ts");
const STOP_TIMEOUT_MS = 5000;
const START_TIMEOUT_MS = 20_000;

export class ClientWorker {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; op: string }>();
  private exited = false;
  private readonly exit: Promise<void>;
  private readonly ready: Promise<void>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.ready = new Promise((resolve) => {
      const onReady = (message: WorkerReply | typeof WORKER_READY): void => {
        if (message !== WORKER_READY) return;
        child.off("message", onReady);
        resolve();
      };
      child.on("message", onReady);
    });
    child.on("message", (message: WorkerReply | typeof WORKER_READY) => {
      if (message === WORKER_READY) return;
      const waiter = this.pending.get(message.id);
      if (waiter === undefined) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(`${this.name} ${waiter.op}: ${message.error}`));
    });
    this.exit = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exited = true;
        for (const waiter of this.pending.values()) {
          waiter.reject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) during ${waiter.op}`));
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Forks a worker; resolves once it listens for requests. */
  static async start(name: string, jwtSecret: string): Promise<ClientWorker> {
    const child = fork(WORKER_ENTRY, [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, [WORKER_JWT_SECRET_ENV]: jwtSecret },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const worker = new ClientWorker(name, child);
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name}: not ready within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      void worker.exit.then(() => reject(new Error(`${name} exited while starting`)));
    });
    try {
      await Promise.race([worker.ready, failed]);
    } catch (error) {
      await worker.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return worker;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private request<T>(request: WorkerRequest, timeoutMs: number): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited; cannot ${request.op}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name} ${request.op}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        op: request.op,
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ ...request, id });
    });
  }

  open(request: Omit<OpenRequest, "op">): Promise<OpenReply> {
    return this.request({ op: "open", ...request }, request.timeoutMs + 60_000);
  }

  send(ratePerSecond: number): Promise<void> {
    return this.request({ op: "send", ratePerSecond }, 5000);
  }

  stopSend(): Promise<void> {
    return this.request({ op: "stopSend" }, 5000);
  }

  mark(): Promise<void> {
    return this.request({ op: "mark" }, 5000);
  }

  report(): Promise<WindowReport> {
    return this.request({ op: "report" }, 10_000);
  }

  counts(): Promise<CountsReply> {
    return this.request({ op: "counts" }, 10_000);
  }

  closeAll(timeoutMs: number): Promise<{ closed: number; left: number }> {
    return this.request({ op: "closeAll", timeoutMs }, timeoutMs + 10_000);
  }

  httpLoad(request: Omit<HttpLoadRequest, "op">): Promise<HttpLoadReply> {
    return this.request({ op: "http", ...request }, request.durationMs + 60_000);
  }

  /** Disconnects (the worker exits on its own), then SIGKILLs it if it is still there after a while. */
  async stop(): Promise<void> {
    if (this.exited) return;
    if (this.child.connected) this.child.disconnect();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exit, new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
    if (!this.exited) {
      this.child.kill("SIGKILL");
      await this.exit;
    }
  }
}

/** Starts `count` workers; if one fails to start, stops the others and throws. */
export async function startWorkers(count: number, jwtSecret: string, prefix = "client"): Promise<ClientWorker[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => ClientWorker.start(`${prefix}-${i + 1}`, jwtSecret)));
  const workers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const failure = started.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failure !== undefined) {
    await Promise.all(workers.map((worker) => worker.stop()));
    throw failure.reason;
  }
  return workers;
}
