/**
 * Real PostgreSQL for tests and the local cluster: a primary with database `gomeet`, and a streaming
 * replica made with pg_basebackup -R. Servers run as the `postgres` user (initdb refuses root), listen
 * only on 127.0.0.1 at a free port, keep their unix socket in their own temp dir, and trade durability
 * for speed (fsync off): these are throwaway servers.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import { findBinary } from "./binaries";
import { freePort } from "./ports";
import { spawnManaged, tempDir, waitForReady, type ManagedProcess } from "./process";
import type { ServerTls } from "./tls";

export interface PgNode {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/gomeet */
  url: string;
  dataDir: string;
  /** The current process; replaced by start(). */
  process: ManagedProcess;
  /** Fast shutdown (SIGINT). */
  stop(): Promise<void>;
  /** SIGKILL of the server and all its backends, like a crash. */
  kill(): Promise<void>;
  /** Starts again on the same data dir and port; resolves once it accepts connections to `gomeet`. */
  start(): Promise<void>;
}

export interface PgPair {
  primary: PgNode;
  replica: PgNode;
  stop(): Promise<void>;
}

export const DATABASE = "gomeet";
const LOOPBACK = "127.0.0.1";
const START_TIMEOUT_MS = 15_000;
const POSTGRES_USER = "postgres" as const;

/** Settings appended to postgresql.conf (later lines win, so a replica overrides what it copied). */
function serverSettings(port: number, socketDir: string): string {
  return [
    "",
    "# --- GoMeet test harness ---",
    `listen_addresses = '${LOOPBACK}'`,
    `port = ${port}`,
    `unix_socket_directories = '${socketDir}'`,
    "fsync = off",
    "synchronous_commit = off",
    "full_page_writes = off",
    "wal_level = replica",
    "max_wal_senders = 10",
    "max_replication_slots = 10",
    "wal_keep_size = '256MB'",
    "hot_standby = on",
    "hot_standby_feedback = on",
    // A replica notices a lost or restarted primary quickly and retries every half second.
    "wal_receiver_timeout = '5s'",
    "wal_retrieve_retry_interval = '500ms'",
    "wal_receiver_status_interval = '1s'",
    "max_connections = 200",
    "shared_buffers = '32MB'",
    "logging_collector = off",
    "",
  ].join("\n");
}

async function run(name: string, command: string, args: string[]): Promise<void> {
  const proc = spawnManaged(name, command, args, { asUser: POSTGRES_USER });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${name} failed with exit code ${String(code)}\n${proc.logs()}`);
}

async function query<T extends object>(port: number, database: string, sql: string): Promise<T[]> {
  const client = new Client({ host: LOOPBACK, port, user: POSTGRES_USER, database, connectionTimeoutMillis: 1000 });
  // Connection errors also reject connect()/query(), which is where they are reported.
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.query(sql)).rows as T[];
  } finally {
    // Closing a connection that never opened fails too; the connect/query error above is the one that matters.
    await client.end().catch(() => undefined);
  }
}

class PostgresServer implements PgNode {
  readonly url: string;
  process!: ManagedProcess;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    /** The database to wait for on start (`postgres` before `gomeet` exists). */
    private readyDatabase: string,
  ) {
    this.url = `postgres://${POSTGRES_USER}@${LOOPBACK}:${port}/${DATABASE}`;
  }

  async start(): Promise<void> {
    this.process = spawnManaged(this.name, findBinary("postgres"), ["-D", this.dataDir], {
      asUser: POSTGRES_USER,
      stopSignal: "SIGINT",
    });
    await waitForReady(this.process, async () => (await query(this.port, this.readyDatabase, "SELECT 1")).length === 1, {
      timeoutMs: START_TIMEOUT_MS,
      what: `${this.name} to accept connections on ${LOOPBACK}:${this.port}`,
    });
  }

  async createDatabase(): Promise<void> {
    await query(this.port, "postgres", `CREATE DATABASE ${DATABASE}`);
    this.readyDatabase = DATABASE;
  }

  stop(): Promise<void> {
    return this.process.stop(10_000);
  }

  kill(): Promise<void> {
    return this.process.kill();
  }
}

/** A node's directory layout: <tmp>/data is the data dir, <tmp> holds the unix socket. */
async function nodeDirs(port: number): Promise<{ socketDir: string; dataDir: string }> {
  const socketDir = await tempDir(`postgres-${port}`, POSTGRES_USER);
  return { socketDir, dataDir: path.join(socketDir, "data") };
}

/**
 * TLS on a server: its certificate and key copied into the server's own directory (PostgreSQL wants the
 * key owned by its user, mode 0600). Clients may still connect without TLS (the harness's own checks do).
 */
async function tlsSettings(tls: ServerTls, dir: string): Promise<string> {
  const certFile = path.join(dir, "server.crt");
  const keyFile = path.join(dir, "server.key");
  await fs.copyFile(tls.certFile, certFile);
  await fs.copyFile(tls.keyFile, keyFile);
  const { uid, gid } = await fs.stat(dir);
  await Promise.all([fs.chown(certFile, uid, gid), fs.chown(keyFile, uid, gid)]);
  await fs.chmod(keyFile, 0o600);
  return ["ssl = on", `ssl_cert_file = '${certFile}'`, `ssl_key_file = '${keyFile}'`, ""].join("\n");
}

/**
 * A fresh primary with database `gomeet` and trust auth on 127.0.0.1; resolves once it accepts connections.
 * With `tls`, it also serves TLS with that certificate.
 */
export async function startPostgres(opts: { tls?: ServerTls } = {}): Promise<PgNode> {
  const port = await freePort();
  const { socketDir, dataDir } = await nodeDirs(port);
  await run(`initdb-${port}`, findBinary("initdb"), [
    "-D",
    dataDir,
    "-U",
    POSTGRES_USER,
    "--auth=trust",
    "--encoding=UTF8",
    "--locale=C",
    "--no-sync",
    "--no-instructions",
  ]);
  await fs.appendFile(path.join(dataDir, "postgresql.conf"), serverSettings(port, socketDir));
  if (opts.tls !== undefined) await fs.appendFile(path.join(dataDir, "postgresql.conf"), await tlsSettings(opts.tls, socketDir));
  const node = new PostgresServer(`postgres-${port}`, port, dataDir, "postgres");
  await node.start();
  await node.createDatabase();
  return node;
}

/** Runs one statement on a fresh connection to `url` (any server, endpoint or pool) and returns its rows. */
export async function sqlAt<T extends object>(url: string, text: string, values: readonly unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, [...values])).rows as T[];
  } finally {
    await client.end();
  }
}

/** Names of the standbys streaming from `primary` (pg_stat_replication); `primary` may be an endpoint that leads to it. */
export async function streamingReplicas(primary: Pick<PgNode, "port">): Promise<string[]> {
  const rows = await query<{ application_name: string }>(
    primary.port,
    DATABASE,
    "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'",
  );
  return rows.map((r) => r.application_name);
}

/** pg_basebackup of `primary` into `dataDir`, set up as a standby named `replica_<port>` listening on `port`. */
async function cloneAsReplica(primary: Pick<PgNode, "port">, port: number, dataDir: string): Promise<void> {
  await run(`pg_basebackup-${port}`, findBinary("pg_basebackup"), [
    "-h",
    LOOPBACK,
    "-p",
    String(primary.port),
    "-U",
    POSTGRES_USER,
    "-D",
    dataDir,
    "-R",
    "-X",
    "stream",
    "--checkpoint=fast",
    "--no-sync",
  ]);
  // -R wrote primary_conninfo into postgresql.auto.conf; name this standby so the primary can tell replicas apart.
  await fs.appendFile(
    path.join(dataDir, "postgresql.auto.conf"),
    `primary_conninfo = 'host=${LOOPBACK} port=${primary.port} user=${POSTGRES_USER} application_name=replica_${port}'\n`,
  );
  await fs.appendFile(path.join(dataDir, "postgresql.conf"), serverSettings(port, path.dirname(dataDir)));
}

async function waitStreaming(replica: PgNode, primary: Pick<PgNode, "port">): Promise<void> {
  await waitForReady(replica.process, async () => (await streamingReplicas(primary)).includes(`replica_${replica.port}`), {
    timeoutMs: START_TIMEOUT_MS,
    intervalMs: 100,
    what: `replica ${LOOPBACK}:${replica.port} to stream from primary ${LOOPBACK}:${primary.port}`,
  });
}

/**
 * A streaming replica of `primary` (pg_basebackup -R); resolves once the primary sees it streaming.
 * `primary` may be an endpoint that always leads to the current primary: the replica then follows a
 * promotion (its walreceiver reconnects through the endpoint and follows the new timeline).
 */
export async function startReplica(primary: Pick<PgNode, "port">): Promise<PgNode> {
  const port = await freePort();
  const { dataDir } = await nodeDirs(port);
  await cloneAsReplica(primary, port, dataDir);
  const replica = new PostgresServer(`postgres-replica-${port}`, port, dataDir, DATABASE);
  await replica.start();
  await waitStreaming(replica, primary);
  return replica;
}

/**
 * Throws a replica's data away and makes it again from `primary`, at the same port and data dir (what a
 * managed service does with a read-only node that cannot follow a new primary, e.g. one that had
 * received WAL the promoted standby never got). Resolves once it streams.
 */
export async function rebuildReplica(replica: PgNode, primary: Pick<PgNode, "port">): Promise<void> {
  await replica.stop();
  await fs.rm(replica.dataDir, { recursive: true, force: true });
  await cloneAsReplica(primary, replica.port, replica.dataDir);
  await replica.start();
  await waitStreaming(replica, primary);
}

/** A primary and a streaming replica of it. */
export async function startPostgresWithReplica(): Promise<PgPair> {
  const primary = await startPostgres();
  const replica = await startReplica(primary);
  return {
    primary,
    replica,
    stop: async () => {
      // Replica first, so the primary's walsender is not waiting on it during shutdown.
      await replica.stop();
      await primary.stop();
    },
  };
}
