/**
 * The Valkey connections of one instance: a command connection (which also publishes, from inside
 * the Lua scripts) and a subscribe connection, always replaced together.
 *
 * A demoted primary accepts PUBLISH silently and keeps the old connections open, so reconnecting
 * on socket errors is not enough: on a READONLY reply or when ROLE stops saying "master", both
 * connections are recycled, every channel is subscribed again on the new subscribe connection,
 * and listeners of "resubscribed" heal the gap from history. The real-time path fails fast: no
 * offline queue and a bounded command queue. Commands carry no timeout of their own (a timer per
 * command costs more than the command on the hot path): the periodic ROLE check is the watchdog,
 * and a ROLE that does not answer within the connect timeout recycles the connections, which
 * rejects whatever was waiting on the silent ones.
 *
 * A Valkey at maxmemory with noeviction answers reads but refuses writes ("OOM command not allowed"):
 * rooms cannot work then (no join, no message, no presence). Each ROLE check also writes a small
 * probe key; an OOM reply to it, or to any command, makes the health unhealthy (so /readyz says 503)
 * and sets gomeet_redis_writes_refused to 1 until a probe write succeeds again.
 */
import { EventEmitter } from "node:events";
import { createClient, type RedisScripts } from "redis";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { errorMessage } from "../errors";
import { Periodic } from "../periodic";
import { certificateProblem, valkeyTlsSocket } from "../tls";
import { instanceKey } from "./keys";

/** No Lua scripts: the client type of owners that run only built-in commands. */
export type NoScripts = Record<never, never>;

export interface ValkeyConnectionOptions<S extends RedisScripts = NoScripts> {
  url: string;
  connectTimeoutMs: number;
  roleCheckIntervalMs: number;
  /** Bound on commands queued on the command connection. */
  commandQueueMax?: number;
  /** PEM of the CA Valkey's certificate must chain to (REDIS_CA_FILE); unset: the URL's TLS settings as they are. */
  ca?: string;
  /**
   * The Lua scripts the command connection registers, by command name. The connection layer knows none of
   * them: each owner defines its own next to its code (<owner>/lua/<kebab-name>.lua) and the wiring passes
   * them all here (wiring/valkey-scripts.ts).
   */
  scripts: S;
}

function createCommandClient<S extends RedisScripts>(options: ValkeyConnectionOptions<S>, name: string) {
  return createClient({
    url: options.url,
    name,
    scripts: options.scripts,
    disableOfflineQueue: true,
    commandsQueueMaxLength: options.commandQueueMax ?? 100_000,
    // node-redis 6 gives every command a 5 s timeout by default: an AbortSignal.timeout per command
    // (measurable on the hot path), and it only covers the wait before the command is written.
    // 0 turns it off; the ROLE watchdog covers silent connections.
    commandOptions: { timeout: 0 },
    socket: { connectTimeout: options.connectTimeoutMs, reconnectStrategy: reconnectDelay(options.url), ...valkeyTlsSocket(options.ca) },
  });
}

function createSubscribeClient(options: ValkeyConnectionOptions<RedisScripts>, name: string) {
  return createClient({
    url: options.url,
    name,
    disableOfflineQueue: true,
    socket: { connectTimeout: options.connectTimeoutMs, reconnectStrategy: reconnectDelay(options.url), ...valkeyTlsSocket(options.ca) },
  });
}

/** The command connection of a ValkeyConnections registering the scripts S. */
export type CommandClient<S extends RedisScripts = NoScripts> = ReturnType<typeof createCommandClient<S>>;
type SubscribeClient = ReturnType<typeof createSubscribeClient>;
/** Receives each message of a channel as the published bytes. */
export type ChannelListener = (message: Buffer) => void;

/**
 * Backoff between reconnects; a server certificate that does not verify is not retried by the client
 * (connect() rejects with a message naming the check that failed; recycles retry on their own schedule).
 */
function reconnectDelay(url: string): (retries: number, cause: Error) => number | Error {
  const server = `Valkey ${new URL(url).host}`;
  return (retries, cause) => {
    const problem = certificateProblem(cause, server, "REDIS_CA_FILE");
    return problem !== undefined ? new Error(problem) : Math.min(50 * 2 ** retries, 1000);
  };
}

export function isReadOnlyError(error: unknown): boolean {
  return /^(ERR .*)?READONLY\b/.test(errorMessage(error));
}

/** Valkey refuses a write because it is at maxmemory (noeviction); inside a script the reply may be wrapped. */
export function isOutOfMemoryError(error: unknown): boolean {
  return /^OOM\b|\bOOM command not allowed\b/.test(errorMessage(error));
}

export interface ValkeyHealth {
  healthy: boolean;
  role: string;
  latencyMs?: number;
  checkedAt?: string;
  error?: string;
  recycles: number;
  /** False while Valkey refuses writes (maxmemory reached with noeviction). */
  writable?: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface ValkeyConnectionEvents {
  /** After a recycle or a subscribe-connection reconnect: every channel is subscribed again; messages in between may be missing. */
  resubscribed: [];
}

/**
 * S is the set of Lua scripts the command connection registers. An owner that runs some of them asks for
 * `ValkeyConnections<typeof ITS_SCRIPTS>`; the instance the wiring builds (with every owner's scripts) is one.
 */
export class ValkeyConnections<S extends RedisScripts = NoScripts> extends EventEmitter<ValkeyConnectionEvents> {
  private commandClient: CommandClient<S>;
  private subscribeClient: SubscribeClient;
  private readonly channels = new Map<string, ChannelListener>();
  private recycling: Promise<void> | undefined;
  private readonly roleChecks: Periodic;
  private stopped = false;
  private generation = 0;
  private health: ValkeyHealth = { healthy: false, role: "unknown", recycles: 0 };

  constructor(
    private readonly options: ValkeyConnectionOptions<S>,
    private readonly instanceId: string,
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    super();
    this.roleChecks = new Periodic(options.roleCheckIntervalMs, () => this.checkRole());
    this.commandClient = this.newCommandClient();
    this.subscribeClient = this.newSubscribeClient();
  }

  /** The current command connection. Do not keep it: it changes on recycle. */
  get command(): CommandClient<S> {
    return this.commandClient;
  }

  /** Connects both connections and checks that the endpoint is a primary. */
  async start(): Promise<void> {
    await Promise.all([this.commandClient.connect(), this.subscribeClient.connect()]);
    await this.checkRole();
    this.roleChecks.start();
  }

  /**
   * Runs a command; on READONLY (the endpoint is a demoted primary) recycles the connections and
   * retries once. Only for commands that are safe to retry: a write refused with READONLY did not run.
   */
  async run<T>(operation: (client: CommandClient<S>) => Promise<T>): Promise<T> {
    try {
      return await operation(this.commandClient);
    } catch (error) {
      if (isOutOfMemoryError(error)) this.writesRefused(errorMessage(error));
      if (!isReadOnlyError(error) || this.stopped) throw error;
      await this.recycle(`READONLY reply: ${errorMessage(error)}`);
      return operation(this.commandClient);
    }
  }

  /** Resolves once the command connection is ready (at once if it is), or false after `timeoutMs`. */
  async commandReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.commandClient.isReady || this.recycling !== undefined) {
      if (this.stopped || Date.now() >= deadline) return false;
      await sleep(Math.min(50, Math.max(1, deadline - Date.now())));
    }
    return true;
  }

  async subscribe(channel: string, listener: ChannelListener): Promise<void> {
    this.channels.set(channel, listener);
    await this.subscribeClient.subscribe(channel, listener, true);
  }

  async unsubscribe(channel: string): Promise<void> {
    const listener = this.channels.get(channel);
    if (listener === undefined) return;
    this.channels.delete(channel);
    if (this.subscribeClient.isOpen) await this.subscribeClient.unsubscribe(channel, listener, true);
  }

  currentHealth(): ValkeyHealth {
    return { ...this.health };
  }

  /** Replaces both connections (at most one recycle at a time); resolves once new ones are up on a primary. */
  recycle(reason: string): Promise<void> {
    this.recycling ??= this.doRecycle(reason).finally(() => {
      this.recycling = undefined;
    });
    return this.recycling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.roleChecks.stop();
    await this.recycling;
    await Promise.allSettled([closeClient(this.commandClient), closeClient(this.subscribeClient)]);
  }

  private async doRecycle(reason: string): Promise<void> {
    this.generation++;
    this.metrics.valkeyRecycles.inc();
    this.health = { ...this.health, healthy: false, error: reason, recycles: this.health.recycles + 1 };
    this.metrics.dependencyUp.set({ dependency: "redis", name: "valkey" }, 0);
    this.logger.warn({ reason }, "recycling Valkey command and subscribe connections");
    // The old connections go first: nothing more may be written to (or read from) the demoted node.
    this.commandClient.destroy();
    this.subscribeClient.destroy();
    for (let attempt = 0; !this.stopped; attempt++) {
      const command = this.newCommandClient();
      const subscriber = this.newSubscribeClient();
      try {
        await Promise.all([command.connect(), subscriber.connect()]);
        const role = await roleOf(command, this.options.connectTimeoutMs);
        if (role !== "master") throw new Error(`the endpoint answers as ${role}, not master`);
        for (const [channel, listener] of this.channels) await subscriber.subscribe(channel, listener, true);
        this.commandClient = command;
        this.subscribeClient = subscriber;
        this.setHealthy(role, undefined);
        this.logger.info({ attempt }, "Valkey connections recycled");
        this.emit("resubscribed");
        return;
      } catch (error) {
        command.destroy();
        subscriber.destroy();
        this.health = { ...this.health, healthy: false, error: errorMessage(error) };
        this.logger.warn({ err: errorMessage(error), attempt }, "Valkey recycle attempt failed");
        await sleep(Math.min(100 * 2 ** attempt, 2000));
      }
    }
  }

  private newCommandClient(): CommandClient<S> {
    const client = createCommandClient(this.options, `gomeet-${this.instanceId}-cmd`);
    client.on("error", (error: Error) => this.onClientError("command", error));
    return client;
  }

  private newSubscribeClient(): SubscribeClient {
    const client = createSubscribeClient(this.options, `gomeet-${this.instanceId}-sub`);
    const generation = this.generation;
    let readyBefore = false;
    client.on("error", (error: Error) => this.onClientError("subscribe", error));
    client.on("ready", () => {
      // node-redis resubscribes before "ready"; anything published while it was away is missing.
      if (readyBefore && generation === this.generation && !this.stopped) this.emit("resubscribed");
      readyBefore = true;
    });
    return client;
  }

  private onClientError(connection: string, error: Error): void {
    if (this.stopped) return;
    // A certificate that does not verify is named as such in /readyz and the log (see tls.ts).
    const problem = certificateProblem(error, `Valkey ${new URL(this.options.url).host}`, "REDIS_CA_FILE") ?? error.message;
    this.health = { ...this.health, healthy: false, error: `${connection}: ${problem}` };
    this.metrics.dependencyUp.set({ dependency: "redis", name: "valkey" }, 0);
    this.logger.warn({ connection, err: problem }, "Valkey connection error");
  }

  /** ROLE on the command connection: a demoted node keeps the connection but answers "slave". */
  private async checkRole(): Promise<void> {
    if (this.recycling !== undefined) return;
    const started = performance.now();
    try {
      const role = await roleOf(this.commandClient, this.options.connectTimeoutMs);
      if (role !== "master") {
        await this.recycle(`ROLE is ${role}`);
        return;
      }
      const refusal = await this.probeWrite();
      if (refusal !== undefined) {
        this.writesRefused(refusal);
        return;
      }
      const subscriberUp = this.subscribeClient.isReady;
      this.setHealthy(role, subscriberUp ? undefined : "subscribe connection is not ready", performance.now() - started);
    } catch (error) {
      this.health = { ...this.health, healthy: false, error: errorMessage(error), checkedAt: new Date().toISOString() };
      this.metrics.dependencyUp.set({ dependency: "redis", name: "valkey" }, 0);
      // Connected but silent (a network partition without resets): replace the connections.
      if (error instanceof RoleTimeoutError) await this.recycle(error.message);
    }
  }

  /**
   * Writes the probe key (SET … PX, within the connect timeout like ROLE); resolves with Valkey's OOM
   * reply when it refuses the write, else undefined. Other failures throw (the ROLE check's handling).
   */
  private async probeWrite(): Promise<string | undefined> {
    const key = instanceKey(this.instanceId, "write-probe");
    const ttlMs = Math.max(WRITE_PROBE_MIN_TTL_MS, 10 * this.options.roleCheckIntervalMs);
    try {
      await withTimeout(
        this.commandClient.set(key, String(Date.now()), { expiration: { type: "PX", value: ttlMs } }),
        this.options.connectTimeoutMs,
        "SET (write probe)",
      );
      return undefined;
    } catch (error) {
      if (isOutOfMemoryError(error)) return errorMessage(error);
      throw error;
    }
  }

  /** Valkey refused a write for want of memory: unhealthy (rooms cannot work) until a probe write succeeds. */
  private writesRefused(reply: string): void {
    if (this.health.writable !== false) this.logger.error({ err: reply }, "Valkey refuses writes (maxmemory reached)");
    this.health = {
      ...this.health,
      healthy: false,
      writable: false,
      error: `Valkey refuses writes (maxmemory reached): ${reply}`,
      checkedAt: new Date().toISOString(),
    };
    this.metrics.valkeyWritesRefused.set(1);
    this.metrics.dependencyUp.set({ dependency: "redis", name: "valkey" }, 0);
  }

  private setHealthy(role: string, problem: string | undefined, latencyMs?: number): void {
    const healthy = problem === undefined;
    this.health = {
      healthy,
      role,
      latencyMs: latencyMs === undefined ? undefined : Math.round(latencyMs * 100) / 100,
      checkedAt: new Date().toISOString(),
      error: problem,
      recycles: this.health.recycles,
      writable: true,
    };
    this.metrics.valkeyWritesRefused.set(0);
    this.metrics.dependencyUp.set({ dependency: "redis", name: "valkey" }, healthy ? 1 : 0);
  }
}

/** ROLE (or the write probe) did not answer in time (node-redis's own command timeout stops once a command is written). */
class RoleTimeoutError extends Error {}

/** The probe key outlives a few missed checks, and is gone soon after the instance is. */
const WRITE_PROBE_MIN_TTL_MS = 10_000;

async function withTimeout<T>(command: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new RoleTimeoutError(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([command, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function roleOf(client: CommandClient<RedisScripts>, timeoutMs: number): Promise<string> {
  const reply: unknown = await withTimeout(client.sendCommand(["ROLE"]), timeoutMs, "ROLE");
  return String((reply as unknown[])[0]);
}

async function closeClient(client: CommandClient<RedisScripts> | SubscribeClient): Promise<void> {
  if (client.isOpen) await client.close();
  else client.destroy();
}
