/**
 * The systems under test, all on 127.0.0.1 and all sharing one Valkey (redis-server):
 * - GoMeet: three app instances (app/src/main.ts) with PostgreSQL and a LiveKit stand-in;
 * - Socket.IO: three nodes with @socket.io/redis-adapter;
 * - raw: one `ws` process (the ceiling).
 * Each lists the server processes whose CPU is charged to it.
 */
import { appEnv, JWT_SECRET } from "../test/app/helpers";
import { startLivekitStandIn, type LivekitStandIn } from "../test/support/livekit-standin";
import { startPostgres, type PgNode } from "../test/support/postgres";
import { startRedis, type RedisNode } from "../test/support/redis";
import { asServerProcess, startNodeServer, type NodeServer } from "./node-server";
import type { ServerProcess } from "./proc-stats";
import type { SystemName } from "./worker-protocol";

export const INSTANCES = 3;
/** The app's default heartbeat interval (HEARTBEAT_INTERVAL_MS). */
const HEARTBEAT_INTERVAL_MS = 10_000;

/**
 * The app's configuration for the benchmark: its production defaults (the test helpers shorten
 * intervals so tests see heartbeats quickly; those would be charged to GoMeet's CPU here), except
 * the per-connection message limit: the stepped fan-out sends up to ~100 messages/s per connection.
 */
const PRODUCTION_DEFAULTS: Record<string, string> = {
  LOG_LEVEL: "warn",
  REDIS_CONNECT_TIMEOUT_MS: "2000",
  REDIS_ROLE_CHECK_INTERVAL_MS: "1000",
  DB_CONNECT_TIMEOUT_MS: "2000",
  DB_HEALTH_INTERVAL_MS: "2000",
  LIVEKIT_HEALTH_INTERVAL_MS: "2000",
  LIVEKIT_HEALTH_TIMEOUT_MS: "1000",
  HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
  PRESENCE_TTL_SECONDS: "30",
  SHUTDOWN_DRAIN_SECONDS: "0",
};
export const BENCH_MESSAGES_PER_SECOND_LIMIT = "1000";

export interface SystemUnderTest {
  name: SystemName;
  /** Where clients connect: GoMeet and Socket.IO http://…, raw ws://… */
  endpoints: string[];
  /** Every process whose CPU counts for this system. */
  servers: ServerProcess[];
}

export interface BenchSystems {
  valkey: RedisNode;
  postgres: PgNode;
  livekit: LivekitStandIn;
  gomeet: SystemUnderTest & { instances: NodeServer[]; heartbeatIntervalMs: number };
  socketio: SystemUnderTest;
  raw: SystemUnderTest;
  jwtSecret: string;
}

/**
 * Set to another entry file (relative to the repository root, or absolute) to benchmark a
 * candidate build of the app, e.g. a copy with a proposed change; app/src/main.ts by default.
 */
export const APP_ENTRY_ENV = "GOMEET_BENCH_APP_ENTRY";
const APP_ENTRY = "app/src/main.ts";

export interface StartOptions {
  appEntry?: string;
  /** Write each server's CPU profile here when it stops. */
  cpuProfileDir?: string;
  /** Extra app environment (e.g. a different HEARTBEAT_INTERVAL_MS). */
  appOverrides?: Record<string, string>;
}

export async function startSystems(options: StartOptions = {}): Promise<BenchSystems> {
  const [valkey, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("livekit-a")]);
  const valkeyServer: ServerProcess = { name: "valkey", pid: valkey.process.pid };
  const postgresServer: ServerProcess = { name: "postgres", pid: postgres.process.pid, tree: true };
  const backends = { redisUrl: valkey.url, databaseUrl: postgres.url, livekit: [livekit] };
  const profile = { cpuProfileDir: options.cpuProfileDir };

  const instances: NodeServer[] = [];
  // One at a time: the first runs the migrations, and parallel tsx start-ups only slow each other down.
  for (let i = 1; i <= INSTANCES; i++) {
    const id = `gomeet-${i}`;
    const env = appEnv(backends, id, { ...PRODUCTION_DEFAULTS, WS_MAX_MESSAGES_PER_SECOND: BENCH_MESSAGES_PER_SECOND_LIMIT, ...options.appOverrides });
    instances.push(await startNodeServer(id, options.appEntry ?? APP_ENTRY, { env, ...profile }));
  }
  const socketioNodes = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) => startNodeServer(`socketio-${i + 1}`, "bench/servers/socketio-node.ts", { env: { REDIS_URL: valkey.url }, ...profile })),
  );
  const raw = await startNodeServer("raw-ws", "bench/servers/raw-ws-node.ts", { env: {}, ...profile });

  return {
    valkey,
    postgres,
    livekit,
    jwtSecret: JWT_SECRET,
    gomeet: {
      name: "gomeet",
      instances,
      heartbeatIntervalMs: Number(options.appOverrides?.HEARTBEAT_INTERVAL_MS ?? HEARTBEAT_INTERVAL_MS),
      endpoints: instances.map((instance) => instance.url),
      servers: [...instances.map(asServerProcess), valkeyServer, postgresServer],
    },
    socketio: {
      name: "socketio",
      endpoints: socketioNodes.map((node) => node.url),
      servers: [...socketioNodes.map(asServerProcess), valkeyServer],
    },
    raw: {
      name: "raw",
      endpoints: [raw.url.replace(/^http/, "ws")],
      servers: [asServerProcess(raw)],
    },
  };
}
