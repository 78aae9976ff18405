/**
 * A resume with since=0 must not build the whole history in memory (issue 24, item 2): the replay is
 * streamed in pages, each written once the socket has drained below WS_REPLAY_HIGH_WATER_BYTES, so a
 * client that never reads holds about one page plus that mark of the instance's memory. Against a
 * real Valkey and PostgreSQL; the instance is a child process whose resident memory (VmRSS, sampled
 * every 20 ms) is measured while sockets that never read resume a room holding 1,000 × 60 KB.
 * Prints the figures (baseline, peak, growth per socket); the issue measured ~924 MB for 12 joins.
 */
import fs from "node:fs";
import type net from "node:net";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { stopAll, type ManagedProcess } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { createRoom, openSilentSocket, OpenClients, sleep, spawnApp, token, type Backends } from "./helpers";

const HISTORY = 1000;
const PAYLOAD_CHARS = 60_000;
const SILENT_SOCKETS = 12;
/** The bound asserted: the old code grew by ~77 MB per silent socket (924 MB for 12); pages + mark are ~2 MiB each. */
const MAX_GROWTH_MB = 150;

let backends: Backends;
let app: { process: ManagedProcess; url: string; metricsUrl: string };
let alice: string;
let room: string;
const clients = new OpenClients();
const silent: net.Socket[] = [];

function residentMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
  return kb / 1024;
}

/** Samples the process's resident memory every 20 ms while `during` runs; resolves with the peak. */
async function peakResidentMb(pid: number, during: () => Promise<void>): Promise<number> {
  let peak = residentMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, residentMb(pid))), 20);
  try {
    await during();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, residentMb(pid));
}

beforeAll(async () => {
  const [redis, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk")]);
  backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] };
  const env = {
    HISTORY_MAX_LENGTH: String(HISTORY),
    WS_MAX_MESSAGES_PER_SECOND: "100000",
    // A client that never reads does not answer pings either: keep the heartbeat from ending it mid-measurement.
    HEARTBEAT_INTERVAL_MS: "60000",
    PRESENCE_TTL_SECONDS: "120",
    // The old code's whole-history replies kept the command connection busy past the ROLE watchdog (recycles, failed joins).
    REDIS_CONNECT_TIMEOUT_MS: "10000",
    // This test fills one room on purpose: the per-user and per-room Valkey quotas are not what it measures.
    QUOTA_USER_BYTES: "1073741824",
    QUOTA_USER_MESSAGES: "100000",
    HISTORY_MAX_ROOM_BYTES: "1073741824",
  };
  alice = await token("alice", { name: "Alice" });
  // One instance fills the room's history; a fresh one is measured (the filler's freed buffers would hide growth).
  const filler = await spawnApp(backends, "replay-filler", env);
  room = await createRoom(filler.url, alice);
  const writer = await clients.connect(filler.url, room, alice);
  const payload = "p".repeat(PAYLOAD_CHARS);
  for (let i = 0; i < HISTORY; i += 50) {
    for (let k = i; k < i + 50; k++) writer.send({ k, payload });
    await writer.count((f) => f.type === "message", i + 50, 20_000);
  }
  await clients.closeAll();
  await filler.process.stop();
  app = await spawnApp(backends, "replay-memory", env);
}, 120_000);

afterAll(async () => {
  for (const socket of silent) socket.destroy();
  await clients.closeAll();
  await stopAll();
});

test(`${SILENT_SOCKETS} sockets that never read resume with since=0: memory stays bounded, and a reader still gets all of it`, async () => {
  await sleep(1000);
  const baseline = residentMb(app.process.pid);
  const peak = await peakResidentMb(app.process.pid, async () => {
    for (let i = 0; i < SILENT_SOCKETS; i++) silent.push(await openSilentSocket(app.url, { room, access_token: alice, since: "0" }));
    await sleep(Number(process.env.REPLAY_HOLD_MS ?? 10_000));
  });
  const growth = peak - baseline;
  const m = await (await fetch(`${app.metricsUrl}/metrics`)).text();
  process.stdout.write(
    m
      .split("\n")
      .filter((l) => /recoveries|ws_connections|slow|closed_total|heap_size_used|external_memory/.test(l))
      .join("\n") + "\n",
  );
  process.stdout.write(
    `replay memory: ${SILENT_SOCKETS} never-reading sockets resuming ${HISTORY} × ${PAYLOAD_CHARS / 1000} KB: ` +
      `baseline ${baseline.toFixed(0)} MB, peak ${peak.toFixed(0)} MB, growth ${growth.toFixed(0)} MB ` +
      `(${(growth / SILENT_SOCKETS).toFixed(1)} MB per socket)\n`,
  );
  expect(growth).toBeLessThan(MAX_GROWTH_MB);

  // The stream is complete and in order for a client that reads: welcome, then every message once.
  const reader = await clients.connect(app.url, room, alice, 0);
  expect(reader.welcome).toMatchObject({ recovered: true, seq: HISTORY });
  const replayed = await reader.count((f) => f.type === "message", HISTORY, 30_000);
  expect(replayed.map((f) => f.seq)).toEqual(Array.from({ length: HISTORY }, (_, i) => i + 1));
  expect(reader.frames.findIndex((f) => f.type === "welcome")).toBe(0);
}, 120_000);
