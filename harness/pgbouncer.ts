/**
 * PgBouncer in transaction mode (Debian `pgbouncer`) — the local stand-in for DigitalOcean's
 * connection pool, which is what the app's DATABASE_URL points at in production. A client holds a
 * server connection only for the length of one transaction, so session state (SET, session advisory
 * locks, named prepared statements) does not survive from one transaction to the next: the tests and
 * drills run the app through it to catch that class of bug.
 *
 * The timeouts are short, so that while there is no primary a query fails in about a second (the app
 * answers 503) instead of waiting PgBouncer's default two minutes, and a new primary is used at once.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import { findBinary } from "./binaries";
import { freePort } from "./ports";
import { spawnManaged, tempDir, waitForReady, type ManagedProcess } from "./process";

const LOOPBACK = "127.0.0.1" as const;
const POSTGRES_USER = "postgres" as const;

export interface PgBouncerPool {
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url: string;
  mode: "transaction";
  process: ManagedProcess;
  stop(): Promise<void>;
}

/**
 * Settings (PgBouncer 1.18): query_wait_timeout — a client waiting for a server connection gets an
 * error after 1 s (default 120 s); server_connect_timeout 1 s (default 15 s); server_login_retry
 * 0.2 s — how long PgBouncer waits after a failed server connection before it tries again (default
 * 15 s, which would hold writes back for up to 15 s after a promotion).
 */
export function pgbouncerConfig(opts: {
  port: number;
  upstream: { host: string; port: number };
  database: string;
  authFile: string;
}): string {
  return [
    "[databases]",
    `${opts.database} = host=${opts.upstream.host} port=${opts.upstream.port} dbname=${opts.database}`,
    `postgres = host=${opts.upstream.host} port=${opts.upstream.port} dbname=postgres`,
    "",
    "[pgbouncer]",
    `listen_addr = ${LOOPBACK}`,
    `listen_port = ${opts.port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${opts.authFile}`,
    "pool_mode = transaction",
    "max_client_conn = 1000",
    "default_pool_size = 20",
    "query_wait_timeout = 1",
    "server_connect_timeout = 1",
    "server_login_retry = 0.2",
    // Idle server connections are checked before reuse after 1 s idle (default 30 s).
    "server_check_delay = 1",
    `admin_users = ${POSTGRES_USER}`,
    `stats_users = ${POSTGRES_USER}`,
    "log_connections = 0",
    "log_disconnections = 0",
    "",
  ].join("\n");
}

/** Starts PgBouncer in front of `upstream`; resolves once a query through it succeeds. */
export async function startPgBouncer(upstream: { host: string; port: number }, database: string): Promise<PgBouncerPool> {
  const port = await freePort();
  const dir = await tempDir(`pgbouncer-${port}`, POSTGRES_USER);
  const authFile = path.join(dir, "userlist.txt");
  const configFile = path.join(dir, "pgbouncer.ini");
  await fs.writeFile(authFile, `"${POSTGRES_USER}" ""\n`);
  await fs.writeFile(configFile, pgbouncerConfig({ port, upstream, database, authFile }));
  // PgBouncer refuses to run as root; in the foreground it logs to stderr.
  // SIGTERM (the default stop signal) is PgBouncer's immediate shutdown; SIGINT would wait for clients to finish.
  const proc = spawnManaged(`pgbouncer-${port}`, findBinary("pgbouncer"), [configFile], { asUser: POSTGRES_USER });
  const url = `postgres://${POSTGRES_USER}@${LOOPBACK}:${port}/${database}`;
  await waitForReady(
    proc,
    async () => {
      const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      client.on("error", () => undefined);
      try {
        await client.connect();
        return (await client.query("SELECT 1 AS ok")).rows.length === 1;
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    { timeoutMs: 10_000, intervalMs: 100, what: `pgbouncer on ${LOOPBACK}:${port} to pass a query to ${upstream.host}:${upstream.port}` },
  );
  return { port, url, mode: "transaction", process: proc, stop: () => proc.stop() };
}
