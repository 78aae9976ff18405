/**
 * HAProxy as the one PostgreSQL endpoint that always leads to the current writable primary — the local
 * stand-in for a managed cluster's primary hostname, which DigitalOcean keeps across a failover.
 *
 * HAProxy's own `option pgsql-check` only sees that a server answers a startup packet: a standby
 * passes it. The check here speaks the wire protocol itself (tcp-check, no helper process): a startup
 * packet, one simple query, a Terminate, and it passes only on the data row `f` of
 *   SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::bool
 * The second half matters during a pg_auto_failover promotion: the standby being promoted has left
 * recovery but holds `default_transaction_read_only = on` until the old primary is known demoted
 * (its stop_replication state), so it gets traffic only once it really takes writes. Servers are
 * checked every 500 ms; a server marked down has its sessions cut, so no client stays on a demoted node.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { findBinary } from "./binaries";
import { adminCommand, parseServerStatus, primaryEndpointConfig, type ServerStatus } from "./haproxy";
import { freePort } from "./ports";
import { spawnManaged, tempDir, waitForReady, type ManagedProcess } from "./process";

const LOOPBACK = "127.0.0.1" as const;
const BACKEND = "pg_primary";
const CHECK_USER = "postgres";
const CHECK_DATABASE = "postgres";
export const PRIMARY_CHECK_QUERY = "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only')::bool";

export interface PgServer {
  host: string;
  port: number;
}

export interface PgPrimaryEndpoint {
  host: typeof LOOPBACK;
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/<database>: the current primary, unpooled. */
  url: string;
  process: ManagedProcess;
  /** Health-check state of each server, keyed "host:port". */
  serverStatus(): Promise<Record<string, ServerStatus>>;
  /**
   * Takes a server out of rotation and cuts its sessions (maint), or puts it back (ready): the server
   * unreachable from the apps while it and the failure detector see nothing wrong (a network cut).
   */
  setServerState(server: PgServer, state: "maint" | "ready"): Promise<void>;
  stop(): Promise<void>;
}

const serverName = (s: PgServer): string => `${s.host}:${s.port}`;

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/** A protocol-3.0 startup packet, a simple Query and a Terminate, as one hex string for `tcp-check send-binary`. */
export function checkRequestHex(user = CHECK_USER, database = CHECK_DATABASE, sql = PRIMARY_CHECK_QUERY): string {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0application_name\0haproxy-primary-check\0\0`, "utf8");
  const startup = Buffer.concat([int32(8 + params.length), int32(196608), params]);
  const text = Buffer.from(`${sql}\0`, "utf8");
  const queryMessage = Buffer.concat([Buffer.from("Q"), int32(4 + text.length), text]);
  const terminate = Buffer.concat([Buffer.from("X"), int32(4)]);
  return Buffer.concat([startup, queryMessage, terminate]).toString("hex");
}

/** The DataRow of a one-column result whose value is the text `f`: 'D', length 11, 1 column, 1 byte, "f". */
export const NOT_IN_RECOVERY_ROW_HEX = Buffer.concat([
  Buffer.from("D"),
  int32(11),
  Buffer.from([0, 1]),
  int32(1),
  Buffer.from("f"),
]).toString("hex");

export function pgEndpointConfig(port: number, servers: readonly PgServer[], statsSocket: string): string {
  return primaryEndpointConfig({
    port,
    statsSocket,
    frontend: "postgres",
    backend: BACKEND,
    checkLines: [`tcp-check send-binary ${checkRequestHex()}`, `tcp-check expect binary ${NOT_IN_RECOVERY_ROW_HEX}`],
    servers: servers.map((s) => ({ name: serverName(s), address: `${s.host}:${s.port}` })),
  });
}

/**
 * Starts HAProxy in the foreground in front of `servers` (a database named `database` is in the URL);
 * resolves once every server has been checked at least once and one of them is up.
 */
export async function startPgPrimaryEndpoint(servers: readonly PgServer[], database: string): Promise<PgPrimaryEndpoint> {
  if (servers.length === 0) throw new Error("startPgPrimaryEndpoint: at least one PostgreSQL server is required");
  const port = await freePort();
  const dir = await tempDir(`haproxy-pg-${port}`);
  const statsSocket = path.join(dir, "admin.sock");
  const configFile = path.join(dir, "haproxy.cfg");
  await fs.writeFile(configFile, pgEndpointConfig(port, servers, statsSocket));
  const proc = spawnManaged(`haproxy-pg-${port}`, findBinary("haproxy"), ["-db", "-f", configFile]);
  const serverStatus = async (): Promise<Record<string, ServerStatus>> =>
    parseServerStatus(await adminCommand(statsSocket, "show stat"), BACKEND);
  await waitForReady(
    proc,
    async () => {
      const status = await serverStatus();
      const checked = servers.every((s) => !["", "INI"].includes(status[serverName(s)]?.check ?? ""));
      return checked && servers.some((s) => status[serverName(s)]?.status === "UP");
    },
    { timeoutMs: 10_000, intervalMs: 100, what: `haproxy on ${LOOPBACK}:${port} to find the PostgreSQL primary` },
  );
  return {
    host: LOOPBACK,
    port,
    url: `postgres://postgres@${LOOPBACK}:${port}/${database}`,
    process: proc,
    serverStatus,
    setServerState: async (server, state) => {
      const name = `${BACKEND}/${serverName(server)}`;
      const command =
        state === "maint" ? `set server ${name} state maint; shutdown sessions server ${name}` : `set server ${name} state ready`;
      const answer = await adminCommand(statsSocket, command);
      if (answer.trim() !== "") throw new Error(`haproxy: ${command}: ${answer.trim()}`);
    },
    stop: () => proc.stop(),
  };
}
