/**
 * The hostile cases of issue 24, run after the generated barrage so they stay fixed: each is one
 * thing an authenticated attacker did to take an instance down or pin its resources.
 *   deep nesting      a message whose data is nested 5,000 levels deep: invalid_frame, no crash;
 *   silent resumes    sockets that resume with since=0 and never read: resident memory stays bounded;
 *   garbage requests  60 unparsable requests per instance from clients that never close: no descriptor left;
 *   close codes       40 client-chosen close codes: no metric label outside the known set;
 *   many sockets      one user opening more sockets than allowed: refused with 429 (too_many_connections).
 * Each case reports a finding when the service does not hold, and its figures as details.
 */
import fs from "node:fs";
import net from "node:net";
import { openSilentSocket, TestClient } from "../../harness/app-client";

export interface HostileTarget {
  /** The load balancer. */
  baseUrl: string;
  /** Each instance, reached directly: its URL, its process (for /proc) and where it serves /metrics. */
  instances: Array<{ id: string; url: string; pid: number; metricsUrl?: string }>;
  /** A real room (the drill's clients are in it). */
  room: string;
  /** A valid token for a user id (a new user per case). */
  tokenFor(user: string): Promise<string>;
  /** The app's WS_MAX_SOCKETS_PER_USER. */
  maxSocketsPerUser: number;
}

export interface HostileReport {
  findings: string[];
  details: string[];
}

const DEEP_LEVELS = 5000;
const SILENT_SOCKETS = 8;
/** More than a replay page plus the high-water mark per socket, far less than a whole history each. */
const SILENT_GROWTH_LIMIT_MB = 100;
const GARBAGE_REQUESTS = 60;
const CLOSE_CODES = Array.from({ length: 40 }, (_, i) => 4100 + i);
const KNOWN_CLOSE_REASONS = new Set([
  "normal",
  "going_away",
  "protocol_error",
  "unsupported_data",
  "no_status",
  "abnormal",
  "invalid_payload",
  "policy_violation",
  "frame_too_large",
  "internal_error",
  "service_restart",
  "unavailable",
  "slow_consumer",
  "replay_incomplete",
  "other",
]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const residentMb = (pid: number): number => Number(/^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) / 1024;
const descriptors = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;

export async function runHostileCases(target: HostileTarget): Promise<HostileReport> {
  const report: HostileReport = { findings: [], details: [] };
  for (const hostileCase of [deepNesting, silentResumes, garbageRequests, closeCodes, manySockets]) {
    try {
      await hostileCase(target, report);
    } catch (error) {
      report.findings.push(`${hostileCase.name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return report;
}

async function deepNesting(target: HostileTarget, report: HostileReport): Promise<void> {
  const client = await TestClient.connect(target.baseUrl, { room: target.room, token: await target.tokenFor("hostile-deep") });
  try {
    client.ws.send(`{"type":"message","data":${"[".repeat(DEEP_LEVELS)}1${"]".repeat(DEEP_LEVELS)}}`);
    const answer = await client.next((f) => f.type === "error", 5000);
    if (answer.code !== "invalid_frame") report.findings.push(`deep nesting: answered ${answer.code}, not invalid_frame`);
    report.details.push(`deep nesting (${DEEP_LEVELS} levels): ${answer.code} "${String(answer.message)}"`);
  } finally {
    await client.close();
  }
}

async function silentResumes(target: HostileTarget, report: HostileReport): Promise<void> {
  const before = target.instances.map((i) => residentMb(i.pid));
  const token = await target.tokenFor("hostile-silent");
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < SILENT_SOCKETS; i++)
      sockets.push(await openSilentSocket(target.baseUrl, { room: target.room, access_token: token, since: "0" }));
    await sleep(3000);
    const growth = target.instances.map((instance, k) => residentMb(instance.pid) - (before[k] as number));
    report.details.push(
      `silent resumes (${SILENT_SOCKETS} sockets, since=0, never reading): resident memory ` +
        target.instances
          .map((instance, k) => `${instance.id} ${(growth[k] as number) >= 0 ? "+" : ""}${(growth[k] as number).toFixed(0)} MB`)
          .join(", "),
    );
    growth.forEach((mb, k) => {
      if (mb > SILENT_GROWTH_LIMIT_MB) report.findings.push(`silent resumes: ${target.instances[k]?.id} grew by ${mb.toFixed(0)} MB`);
    });
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

async function garbageRequests(target: HostileTarget, report: HostileReport): Promise<void> {
  const sockets: net.Socket[] = [];
  try {
    const before = target.instances.map((i) => descriptors(i.pid));
    for (const instance of target.instances) {
      const { hostname, port } = new URL(instance.url);
      for (let i = 0; i < GARBAGE_REQUESTS; i++) {
        // allowHalfOpen: this end stays open after the server's answer, as a client that never closes.
        const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true }, () => socket.write(`GARBAGE ${i}\r\n\r\n`));
        socket.on("error", () => undefined);
        socket.resume();
        sockets.push(socket);
      }
    }
    await sleep(2500);
    const after = target.instances.map((i) => descriptors(i.pid));
    report.details.push(
      `garbage requests (${GARBAGE_REQUESTS} per instance, clients never close): descriptors ` +
        target.instances.map((instance, k) => `${instance.id} ${before[k]} → ${after[k]}`).join(", "),
    );
    after.forEach((n, k) => {
      if (n > (before[k] as number) + 5)
        report.findings.push(`garbage requests: ${target.instances[k]?.id} holds ${n - (before[k] as number)} more descriptors`);
    });
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

async function closeCodes(target: HostileTarget, report: HostileReport): Promise<void> {
  for (const code of CLOSE_CODES) {
    const client = await TestClient.connect(target.baseUrl, { room: target.room, token: await target.tokenFor(`hostile-close-${code}`) });
    client.ws.close(code, "bye");
    await client.closed;
  }
  await sleep(500);
  const reasons = new Set<string>();
  for (const instance of target.instances) {
    const text = await (await fetch(`${instance.metricsUrl ?? instance.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    for (const match of text.matchAll(/^gomeet_ws_closed_total\{[^}]*reason="([^"]*)"/gm)) reasons.add(match[1] as string);
  }
  const unknown = [...reasons].filter((reason) => !KNOWN_CLOSE_REASONS.has(reason));
  report.details.push(`close codes (${CLOSE_CODES.length} client-chosen): reason labels ${[...reasons].sort().join(", ")}`);
  if (unknown.length > 0) report.findings.push(`close codes: unbounded reason labels ${unknown.slice(0, 5).join(", ")}`);
}

async function manySockets(target: HostileTarget, report: HostileReport): Promise<void> {
  const token = await target.tokenFor("hostile-many");
  const allowed = target.maxSocketsPerUser * target.instances.length;
  const open: TestClient[] = [];
  let refused = 0;
  try {
    for (let i = 0; i < allowed + 5; i++) {
      try {
        open.push(await TestClient.connect(target.baseUrl, { room: target.room, token }));
      } catch (error) {
        if (!String(error).includes("429")) throw error;
        refused++;
      }
    }
    report.details.push(
      `many sockets of one user: ${open.length} open (at most ${allowed}: ${target.maxSocketsPerUser} per instance), ${refused} refused with 429`,
    );
    if (open.length > allowed) report.findings.push(`many sockets: ${open.length} open for one user, more than ${allowed}`);
    if (refused === 0) report.findings.push(`many sockets: ${allowed + 5} sockets of one user, none refused`);
  } finally {
    await Promise.all(open.map((client) => client.close()));
  }
}
