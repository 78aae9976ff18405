/**
 * Real redis-server processes on loopback: single nodes, primary/replica pairs, role changes.
 */
import { findBinary } from "./binaries";
import { freePort } from "./ports";
import { spawnManaged, tempDir, waitFor, waitForReady, type ManagedProcess } from "./process";
import { redisCommand, redisInfo, redisPing, type RedisAddress } from "./redis-client";
import type { ServerTls } from "./tls";

export type { RedisAddress } from "./redis-client";

export interface RedisNode {
  host: "127.0.0.1";
  port: number;
  url: string;
  /** The current process; replaced by restart(). */
  process: ManagedProcess;
  /**
   * Stops the process and starts it again on the same port, as a replica of `replicaOf` when given
   * (null: as a primary). Without options it comes back in the role the harness last gave it.
   */
  restart(opts?: { replicaOf?: RedisAddress | null }): Promise<void>;
}

export interface RedisPair {
  primary: RedisNode;
  replica: RedisNode;
  stop(): Promise<void>;
}

const LOOPBACK = "127.0.0.1" as const;
const START_TIMEOUT_MS = 10_000;
const SYNC_TIMEOUT_MS = 10_000;

/** How a server is (re)started: the arguments for its current role. */
export type RedisArgs = (replicaOf: RedisAddress | undefined) => string[];

/** A redis-server (or Sentinel) process that can be restarted on the same port. */
export class RedisServer implements RedisNode {
  readonly host = LOOPBACK;
  readonly url: string;
  process!: ManagedProcess;
  /**
   * Where a restart without options rejoins; set by promote/demoteTo. A Sentinel-managed node
   * asks the Sentinels instead (see rejoin).
   */
  replicaOf: RedisAddress | undefined;
  /** Overrides replicaOf for restarts without options (e.g. "replica of whatever Sentinel says is primary"). */
  rejoin: (() => Promise<RedisAddress | undefined>) | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly args: RedisArgs,
    replicaOf?: RedisAddress,
  ) {
    this.url = `redis://${LOOPBACK}:${port}`;
    this.replicaOf = replicaOf;
  }

  async start(): Promise<void> {
    this.process = spawnManaged(this.name, findBinary("redis-server"), this.args(this.replicaOf));
    await waitForReady(this.process, () => redisPing(this, 300), {
      timeoutMs: START_TIMEOUT_MS,
      what: `${this.name} to answer PING on ${this.url}`,
    });
  }

  async restart(opts?: { replicaOf?: RedisAddress | null }): Promise<void> {
    let next: RedisAddress | undefined;
    if (opts !== undefined && "replicaOf" in opts) next = opts.replicaOf ?? undefined;
    else next = this.rejoin !== undefined ? await this.rejoin() : this.replicaOf;
    await this.process.stop();
    this.replicaOf = next;
    await this.start();
  }
}

function dataNodeArgs(port: number, dir: string): RedisArgs {
  return (replicaOf) => [
    "--port",
    String(port),
    "--bind",
    LOOPBACK,
    "--dir",
    dir,
    "--daemonize",
    "no",
    // No persistence: tests want a clean server each time, and restarts that rejoin as a replica resync anyway.
    "--save",
    "",
    "--appendonly",
    "no",
    // Replicas sync at once instead of after the default 5 s diskless delay.
    "--repl-diskless-sync",
    "yes",
    "--repl-diskless-sync-delay",
    "0",
    ...(replicaOf === undefined ? [] : ["--replicaof", replicaOf.host, String(replicaOf.port)]),
  ];
}

/** A redis-server that also serves TLS, on its own port. */
export interface TlsRedisServer extends RedisServer {
  tlsPort: number;
  /** rediss://127.0.0.1:<tlsPort> */
  tlsUrl: string;
}

/**
 * A redis-server on a free loopback port that also serves TLS with `tls` on a second port (clients are
 * not asked for certificates). The plain port stays for the harness's own checks.
 */
export async function startTlsRedis(tls: ServerTls): Promise<TlsRedisServer> {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const dir = await tempDir(`redis-${port}`);
  const tlsArgs = ["--tls-port", String(tlsPort), "--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile];
  const caArgs = ["--tls-ca-cert-file", tls.caFile, "--tls-auth-clients", "no"];
  const node = new RedisServer(`redis-${port}`, port, (replicaOf) => [...dataNodeArgs(port, dir)(replicaOf), ...tlsArgs, ...caArgs]);
  await node.start();
  return Object.assign(node, { tlsPort, tlsUrl: `rediss://${LOOPBACK}:${tlsPort}` });
}

/** A redis-server on a free loopback port, no persistence; resolves once it answers PING. */
export async function startRedis(opts: { replicaOf?: RedisAddress } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = await tempDir(`redis-${port}`);
  const node = new RedisServer(`redis-${port}`, port, dataNodeArgs(port, dir), opts.replicaOf);
  await node.start();
  return node;
}

/** Resolves once `replica` has finished its sync with its primary. */
export async function waitForReplicaInSync(replica: RedisNode, timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
  await waitForReady(
    replica.process,
    async () => {
      const info = await redisInfo(replica, "replication");
      return info.role === "slave" && info.master_link_status === "up" && info.master_sync_in_progress === "0";
    },
    { timeoutMs, what: `${replica.url} to be an in-sync replica` },
  );
}

/** A primary and a replica of it; resolves once the replica is in sync. */
export async function startRedisPair(): Promise<RedisPair> {
  const primary = await startRedis();
  const replica = await startRedis({ replicaOf: primary });
  await waitForReplicaInSync(replica);
  return {
    primary,
    replica,
    stop: async () => {
      await Promise.all([primary.process.stop(), replica.process.stop()]);
    },
  };
}

function asServer(node: RedisNode): RedisServer | undefined {
  return node instanceof RedisServer ? node : undefined;
}

/** REPLICAOF NO ONE; resolves once the node reports role:master. */
export async function promote(node: RedisNode): Promise<void> {
  await redisCommand(node, ["REPLICAOF", "NO", "ONE"]);
  const server = asServer(node);
  if (server !== undefined) server.replicaOf = undefined;
  await waitFor(async () => (await redisInfo(node, "replication")).role === "master", {
    timeoutMs: 5000,
    what: `${node.url} to report role:master after REPLICAOF NO ONE`,
  });
}

/** REPLICAOF primary; resolves once the node is an in-sync replica of it. */
export async function demoteTo(node: RedisNode, primary: RedisAddress): Promise<void> {
  await redisCommand(node, ["REPLICAOF", primary.host, String(primary.port)]);
  const server = asServer(node);
  if (server !== undefined) server.replicaOf = { host: primary.host, port: primary.port };
  await waitForReplicaInSync(node);
}
