/**
 * HAProxy as the single Redis endpoint that always routes to the current primary — the local stand-in
 * for a managed Valkey endpoint. Each server is health-checked with `INFO replication` every 500 ms and
 * counts as up only while it reports role:master; clients of a node marked down are disconnected.
 */
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { findBinary } from "./binaries";
import { freePort } from "./ports";
import { spawnManaged, tempDir, waitForReady, type ManagedProcess } from "./process";
import type { RedisAddress } from "./redis-client";

export interface RedisPrimaryProxy {
  host: "127.0.0.1";
  port: number;
  url: string;
  process: ManagedProcess;
  /** Health-check state of each server, keyed "host:port". */
  serverStatus(): Promise<Record<string, ServerStatus>>;
  /** HAProxy's admin socket (`set server <backend>/<host:port> state maint|ready`). */
  adminSocket: string;
  /** The backend's name, for admin commands. */
  backend: string;
  /** Takes a server out of rotation (maint: no traffic whatever its check says) or puts it back (ready). */
  setServerState(server: RedisAddress, state: "maint" | "ready"): Promise<void>;
  stop(): Promise<void>;
}

const LOOPBACK = "127.0.0.1" as const;
const BACKEND = "redis_primary";
const CHECK_INTERVAL_MS = 500;

export interface ServerStatus {
  /** "UP", "DOWN", ... */
  status: string;
  /** Result of the last check, e.g. "L7OK", "L4CON", "L7TOUT"; "INI" until the first check has run. */
  check: string;
}

const serverName = (s: RedisAddress): string => `${s.host}:${s.port}`;

/**
 * The configuration of a TCP endpoint on loopback that routes only to the servers passing `checkLines`
 * (tcp-check steps), checked every CHECK_INTERVAL_MS, marked down on the first failed check, and whose
 * sessions are cut when they are: the shape of both the Valkey and the PostgreSQL primary endpoints.
 */
export function primaryEndpointConfig(options: {
  port: number;
  statsSocket: string;
  frontend: string;
  backend: string;
  checkLines: readonly string[];
  servers: readonly { name: string; address: string }[];
}): string {
  return [
    "global",
    `  stats socket ${options.statsSocket} mode 600 level admin`,
    "  maxconn 4096",
    "",
    "defaults",
    "  mode tcp",
    "  timeout connect 500ms",
    // A check that takes longer than this marks the server down and (fall 1, shutdown-sessions) cuts every
    // session. 250 ms was hit by a live primary on a 2-core machine busy with parallel test suites, which
    // cut every app connection mid-test; a second is still well inside the failover targets.
    "  timeout check 1s",
    // Long-lived client connections (pub/sub, blocking reads, pooled server connections, replication
    // streams) must not be cut by the proxy.
    "  timeout client 1h",
    "  timeout server 1h",
    "",
    `frontend ${options.frontend}`,
    `  bind ${LOOPBACK}:${options.port}`,
    `  default_backend ${options.backend}`,
    "",
    `backend ${options.backend}`,
    "  option tcp-check",
    "  tcp-check connect",
    ...options.checkLines.map((line) => `  ${line}`),
    ...options.servers.map(
      (s) => `  server ${s.name} ${s.address} check inter ${CHECK_INTERVAL_MS}ms fall 1 rise 1 on-marked-down shutdown-sessions`,
    ),
    "",
  ].join("\n");
}

export function haproxyConfig(port: number, servers: readonly RedisAddress[], statsSocket: string): string {
  return primaryEndpointConfig({
    port,
    statsSocket,
    frontend: "redis",
    backend: BACKEND,
    checkLines: [
      'tcp-check send "PING\\r\\n"',
      "tcp-check expect string +PONG",
      // QUIT goes with INFO: a replica's answer is followed by the close, so "role:master" fails at once
      // instead of waiting out the check timeout (a demoted primary is cut as soon as it says role:slave).
      'tcp-check send "INFO replication\\r\\nQUIT\\r\\n"',
      "tcp-check expect string role:master",
      "tcp-check expect string +OK",
    ],
    servers: servers.map((s) => ({ name: serverName(s), address: `${s.host}:${s.port}` })),
  });
}

/** Sends one command to HAProxy's admin socket and returns the whole answer. */
export function adminCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let answer = "";
    socket.setTimeout(1000, () => socket.destroy(new Error(`haproxy admin socket: no answer to "${command}"`)));
    socket.on("connect", () => socket.end(`${command}\n`));
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("utf8")));
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
  });
}

/** Server states of `backend` (the Valkey endpoint's by default) from `show stat` CSV. */
export function parseServerStatus(csv: string, backend: string = BACKEND): Record<string, ServerStatus> {
  const [header, ...rows] = csv.split("\n").filter((line) => line !== "");
  const columns = (header ?? "").replace(/^# /, "").split(",");
  const column = (name: string): number => {
    const index = columns.indexOf(name);
    if (index < 0) throw new Error(`haproxy "show stat": no column "${name}" in header "${header ?? ""}"`);
    return index;
  };
  const [px, sv, status, check] = ["pxname", "svname", "status", "check_status"].map(column) as [number, number, number, number];
  const result: Record<string, ServerStatus> = {};
  for (const row of rows) {
    const cells = row.split(",");
    const name = cells[sv] ?? "";
    if (cells[px] === backend && name !== "BACKEND" && name !== "FRONTEND") {
      result[name] = { status: cells[status] ?? "", check: (cells[check] ?? "").replace(/^\* /, "") };
    }
  }
  return result;
}

/**
 * Starts HAProxy in the foreground in front of `servers`; resolves once every server has been
 * health-checked at least once (so only the primary is UP).
 */
export async function startRedisPrimaryProxy(servers: readonly RedisAddress[]): Promise<RedisPrimaryProxy> {
  if (servers.length === 0) throw new Error("startRedisPrimaryProxy: at least one Redis server is required");
  const port = await freePort();
  const dir = await tempDir(`haproxy-${port}`);
  const statsSocket = path.join(dir, "admin.sock");
  const configFile = path.join(dir, "haproxy.cfg");
  await fs.writeFile(configFile, haproxyConfig(port, servers, statsSocket));
  // -db: one foreground process, no daemon (SIGTERM stops it at once).
  const proc = spawnManaged(`haproxy-${port}`, findBinary("haproxy"), ["-db", "-f", configFile]);
  const serverStatus = async (): Promise<Record<string, ServerStatus>> => parseServerStatus(await adminCommand(statsSocket, "show stat"));
  await waitForReady(
    proc,
    async () => {
      const status = await serverStatus();
      // HAProxy starts every server as UP: the state means something only once each has been checked.
      return servers.every((s) => !["", "INI"].includes(status[serverName(s)]?.check ?? ""));
    },
    { timeoutMs: 5000, what: `haproxy on ${LOOPBACK}:${port} to check its Redis servers` },
  );
  return {
    host: LOOPBACK,
    port,
    url: `redis://${LOOPBACK}:${port}`,
    process: proc,
    serverStatus,
    adminSocket: statsSocket,
    backend: BACKEND,
    setServerState: async (server, state) => {
      const answer = await adminCommand(statsSocket, `set server ${BACKEND}/${serverName(server)} state ${state}`);
      if (answer.trim() !== "") throw new Error(`haproxy: set server ${serverName(server)} state ${state}: ${answer.trim()}`);
    },
    stop: () => proc.stop(),
  };
}
