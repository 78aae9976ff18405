/**
 * The systems under test, all on 127.0.0.1 and all sharing one Valkey (redis-server):
 * - GoMeet: three app instances (app/src/main.ts) with PostgreSQL and a LiveKit stand-in;
 * - Socket.IO: three nodes with @socket.io/redis-adapter;
 * - raw: one `ws` process (the ceiling).
 * Each lists the server processes whose CPU is charged to it.
 */
import { appEnvironment } from "../harness/app-env";
import { TEST_JWT_SECRET } from "../harness/tokens";
import { startLivekitStandIn, type LivekitStandIn } from "../harness/livekit-standin";
import { startPostgres, type PgNode } from "../harness/postgres";
import { startRedis, type RedisNode } from "../harness/redis";
import type { ManagedProcess } from "../harness/process";
import { asServerProcess, startNodeServer, type NodeServer } from "./node-server";
import { prioritise } from "./priority";
import type { ServerProcess } from "./proc-stats";
import type { SystemName } from "./worker-protocol";

export const INSTANCES = 3;
/** The app's default heartbeat interval (HEARTBEAT_INTERVAL_MS). */
const HEARTBEAT_INTERVAL_MS = 10_000;

/**
 * The app's configuration for the benchmark: its production defaults (the harness sets only what an
 * instance needs), quieter logs, no shutdown drain, and the batching windows pinned to their defaults
 * so that these variables in the bench's own environment cannot change what "gomeet" measures.
 */
const BENCH_SETTINGS: Record<string, string> = {
  LOG_LEVEL: "warn",
  SHUTDOWN_DRAIN_SECONDS: "0",
  HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_INTERVAL_MS),
  WS_PUBLISH_BATCH_MS: "0",
  WS_DELIVERY_BATCH_MS: "0",
  // One owner creates every bench room: far more than the per-user limit of a real user.
  RATE_LIMIT_ROOM_CREATES: "1000000",
  RATE_LIMIT_LIVEKIT_GRANTS: "1000000",
  // The fan-out senders (300 users) send up to ~70 messages/s each, far over a real user's Valkey quota.
  QUOTA_USER_MESSAGES: "10000000",
  QUOTA_USER_BYTES: "1073741824",
};
export const BENCH_MESSAGES_PER_SECOND_LIMIT = "1000";

export interface SystemUnderTest {
  name: SystemName;
  /** Where clients connect: GoMeet and Socket.IO http://…, raw ws://… */
  endpoints: string[];
  /** Every process whose CPU counts for this system. */
  servers: ServerProcess[];
  /** Throws, with the last output of each, if any of the system's processes has exited. */
  assertRunning(): void;
}

/** assertRunning for a set of managed processes: each records its exit. */
function runningCheck(system: SystemName, processes: readonly ManagedProcess[]): () => void {
  const exitCodes = new Map<ManagedProcess, number | null>();
  for (const proc of processes) void proc.exited.then((code) => exitCodes.set(proc, code));
  return () => {
    if (exitCodes.size === 0) return;
    const lines = [...exitCodes].map(
      ([proc, code]) =>
        `${proc.name} (pid ${proc.pid}) exited with ${code === null ? "a signal" : `code ${code}`}; its last output:\n${proc.logs()}`,
    );
    throw new Error(`${system}: a server process is gone:\n${lines.join("\n")}`);
  };
}

export interface GomeetSystem extends SystemUnderTest {
  instances: NodeServer[];
  heartbeatIntervalMs: number;
  valkey: RedisNode;
}

export interface BenchSystems {
  valkey: RedisNode;
  postgres: PgNode;
  livekit: LivekitStandIn;
  gomeet: GomeetSystem;
  /** A second build of the app (GOMEET_BENCH_CANDIDATE), with its own Valkey, run alongside. */
  candidate?: GomeetSystem;
  socketio: SystemUnderTest;
  raw: SystemUnderTest;
  jwtSecret: string;
}

const APP_ENTRY = "app/src/main.ts";
/**
 * Set to the entry file of another build of the app (relative to the repository root, or
 * absolute), e.g. a copy with a proposed change: it runs as the system "candidate", alternating
 * with the others under the same load, so the two builds are compared under the same conditions.
 */
export const CANDIDATE_ENTRY_ENV = "GOMEET_BENCH_CANDIDATE";
/**
 * App environment for the candidate, as `NAME=value,NAME=value` (e.g. other WS_PUBLISH_BATCH_MS and
 * WS_DELIVERY_BATCH_MS): without CANDIDATE_ENTRY_ENV the candidate is this build with these settings.
 */
export const CANDIDATE_SETTINGS_ENV = "GOMEET_BENCH_CANDIDATE_ENV";

/** Parses CANDIDATE_SETTINGS_ENV; throws naming the item that is not `NAME=value`. */
export function parseCandidateSettings(text: string): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const item of text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(item);
    if (match === null)
      throw new Error(
        `${CANDIDATE_SETTINGS_ENV}: "${item}" is not NAME=value (expected e.g. WS_PUBLISH_BATCH_MS=5,WS_DELIVERY_BATCH_MS=10)`,
      );
    settings[match[1] as string] = match[2] as string;
  }
  if (Object.keys(settings).length === 0)
    throw new Error(`${CANDIDATE_SETTINGS_ENV} is set but names no setting (expected e.g. WS_PUBLISH_BATCH_MS=5)`);
  return settings;
}

export interface StartOptions {
  /** Entry of a candidate build to run alongside (see CANDIDATE_ENTRY_ENV). */
  candidateEntry?: string;
  /** App environment of the candidate (see CANDIDATE_SETTINGS_ENV); with no candidateEntry, the candidate is this build. */
  candidateSettings?: Record<string, string>;
  /** Write each server's CPU profile here when it stops. */
  cpuProfileDir?: string;
  /** Extra app environment (e.g. a different HEARTBEAT_INTERVAL_MS). */
  appOverrides?: Record<string, string>;
  /** Nice value for every server process and its session (see priority.ts). */
  nice?: number;
}

interface Backing {
  postgres: PgNode;
  livekit: LivekitStandIn;
}

/** Three app instances of `entry` on `valkey`, started one at a time (the first runs the migrations). */
async function startGomeet(
  name: "gomeet" | "candidate",
  entry: string,
  valkey: RedisNode,
  backing: Backing,
  options: StartOptions,
): Promise<GomeetSystem> {
  const backends = { redisUrl: valkey.url, databaseUrl: backing.postgres.url, livekit: [backing.livekit], authSecret: TEST_JWT_SECRET };
  const instances: NodeServer[] = [];
  for (let i = 1; i <= INSTANCES; i++) {
    const id = `${name}-${i}`;
    const env = appEnvironment(
      backends,
      { id, port: 0 },
      { ...BENCH_SETTINGS, WS_MAX_MESSAGES_PER_SECOND: BENCH_MESSAGES_PER_SECOND_LIMIT, ...options.appOverrides },
    );
    instances.push(await startNodeServer(id, entry, { env, cpuProfileDir: options.cpuProfileDir, nice: options.nice }));
  }
  const valkeyName = name === "gomeet" ? "valkey" : `valkey-${name}`;
  return {
    name,
    instances,
    valkey,
    heartbeatIntervalMs: Number(options.appOverrides?.HEARTBEAT_INTERVAL_MS ?? HEARTBEAT_INTERVAL_MS),
    endpoints: instances.map((instance) => instance.url),
    servers: [
      ...instances.map(asServerProcess),
      { name: valkeyName, pid: valkey.process.pid },
      { name: "postgres", pid: backing.postgres.process.pid, tree: true },
    ],
    assertRunning: runningCheck(name, [...instances.map((i) => i.process), valkey.process, backing.postgres.process]),
  };
}

function hasCandidate(options: StartOptions): boolean {
  return options.candidateEntry !== undefined || options.candidateSettings !== undefined;
}

/** What the candidate is, for the report: its entry (or "this build") and its settings. */
export function describeCandidate(options: StartOptions): string | undefined {
  if (!hasCandidate(options)) return undefined;
  const settings = Object.entries(options.candidateSettings ?? {}).map(([name, value]) => `${name}=${value}`);
  return [options.candidateEntry ?? "this build", ...settings].join(", ");
}

export async function startSystems(options: StartOptions = {}): Promise<BenchSystems> {
  const [valkey, postgres, livekit, candidateValkey] = await Promise.all([
    startRedis(),
    startPostgres(),
    startLivekitStandIn("livekit-a"),
    hasCandidate(options) ? startRedis() : undefined,
  ]);
  if (options.nice !== undefined) {
    for (const node of [valkey, postgres, candidateValkey]) if (node !== undefined) prioritise(node.process.pid, options.nice);
  }
  const backing = { postgres, livekit };
  const gomeet = await startGomeet("gomeet", APP_ENTRY, valkey, backing, options);
  const candidate =
    candidateValkey === undefined
      ? undefined
      : await startGomeet("candidate", options.candidateEntry ?? APP_ENTRY, candidateValkey, backing, {
          ...options,
          appOverrides: { ...options.appOverrides, ...options.candidateSettings },
        });
  const profile = { cpuProfileDir: options.cpuProfileDir, nice: options.nice };
  const socketioNodes = await Promise.all(
    Array.from({ length: INSTANCES }, (_, i) =>
      startNodeServer(`socketio-${i + 1}`, "bench/servers/socketio-node.ts", { env: { REDIS_URL: valkey.url }, ...profile }),
    ),
  );
  const raw = await startNodeServer("raw-ws", "bench/servers/raw-ws-node.ts", { env: {}, ...profile });

  return {
    valkey,
    postgres,
    livekit,
    jwtSecret: TEST_JWT_SECRET,
    gomeet,
    candidate,
    socketio: {
      name: "socketio",
      endpoints: socketioNodes.map((node) => node.url),
      servers: [...socketioNodes.map(asServerProcess), { name: "valkey", pid: valkey.process.pid }],
      assertRunning: runningCheck("socketio", [...socketioNodes.map((n) => n.process), valkey.process]),
    },
    raw: {
      name: "raw",
      endpoints: [raw.url.replace(/^http/, "ws")],
      servers: [asServerProcess(raw)],
      assertRunning: runningCheck("raw", [raw.process]),
    },
  };
}
