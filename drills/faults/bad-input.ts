/**
 * bad-input: a generated barrage of malformed inputs (random bytes, oversized frames and bodies,
 * invalid JSON, wrong types, hostile room ids, forged, expired and missing tokens) against the
 * WebSocket and HTTP endpoints, then the hostile cases of issue 24 (bad-input/hostile-cases.ts: deep
 * nesting, never-reading resumes, never-closing garbage requests, client close codes, one user's many
 * sockets), while the drill's clients keep talking in the attacked room.
 * Pass: every input refused (4xx, error frame, or the prescribed close), no instance crashed or
 * restarted, state intact: no room created, no message published, presence back to the real
 * members, the room's seq where its members left it, nothing lost, no request of the real load failed.
 */
import WebSocket from "ws";
import { loadServiceConfig } from "../../app/src/config";
import { addMember } from "../../harness/app-client";
import { signUserToken } from "../../harness/tokens";
import { runBarrage, type BarrageReport } from "../bad-input/barrage";
import { runHostileCases } from "../bad-input/hostile-cases";
import { roomCount } from "../load/database";
import { lbStreams } from "../load/load";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";
import { waitFor } from "../../harness/process";
import type { Cluster } from "../../harness/cluster/cluster";

const ATTACKERS = 16;
const HTTP_CONCURRENCY = 8;

/** The room's seq as a new member is told in its welcome. */
async function roomSeq(cluster: Cluster, room: string, token: string): Promise<number> {
  const url = new URL("/ws", cluster.url.replace(/^http/, "ws"));
  url.searchParams.set("room", room);
  url.searchParams.set("access_token", token);
  const ws = new WebSocket(url);
  try {
    return await new Promise<number>((resolve, reject) => {
      ws.on("error", reject);
      ws.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString("utf8")) as { type?: string; seq?: number };
        if (frame.type === "welcome") resolve(Number(frame.seq));
      });
    });
  } finally {
    ws.close();
  }
}

async function participantUsers(cluster: Cluster, room: string, token: string): Promise<string[]> {
  const response = await fetch(`${cluster.url}/rooms/${room}/participants`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`GET /rooms/${room}/participants answered ${response.status}`);
  const body = (await response.json()) as { participants: Array<{ user: { id: string } }> };
  return body.participants.map((p) => p.user.id).sort();
}

/** Answers per family of inputs ("http token: expired" and "http token: forged" are one family), sorted by family. */
function describeCategories(report: BarrageReport): string[] {
  const families = new Map<string, { kinds: number; total: number; answers: Map<string, number> }>();
  for (const [category, answers] of report.categories) {
    const name = category.split(":")[0] as string;
    const family = families.get(name) ?? { kinds: 0, total: 0, answers: new Map<string, number>() };
    family.kinds++;
    for (const [answer, n] of answers) {
      family.total += n;
      family.answers.set(answer, (family.answers.get(answer) ?? 0) + n);
    }
    families.set(name, family);
  }
  return [...families]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([name, f]) =>
        `  ${name}${f.kinds > 1 ? ` (${f.kinds} kinds)` : ""}: ${f.total} → ${[...f.answers].map(([answer, n]) => `${answer} ×${n}`).join(", ")}`,
    );
}

async function runBadInput(ctx: DrillContext): Promise<DrillResult> {
  const verdict = new Verdict("bad-input");
  const { cluster } = ctx;
  const config = loadServiceConfig(cluster.instances[0]?.env ?? {});
  const pidsBefore = new Map(cluster.instances.map((i) => [i.id, i.pid]));
  // No room creation in the real load: the room count must not move at all.
  const streams = (lb: string) => lbStreams(lb, ["read", "token", "participants"]);
  const { value, obs, load } = await withLoad(ctx, { name: "bad-input", streams }, async (load) => {
    const [target, members] = [...load.rooms][0] as [string, { id: string }[]];
    const observer = await signUserToken(cluster.authSecret, "bad-input-observer");
    // The attackers are hostile but authenticated members of the room they attack (a non-member is refused at the
    // upgrade, before any frame): the load's owner (its HTTP user) adds them and the observer.
    const owner = await signUserToken(cluster.authSecret, "bad-input-http");
    for (const userId of ["bad-input-observer", "mallory", ...Array.from({ length: ATTACKERS }, (_, i) => `mallory-${i + 1}`)]) {
      await addMember(cluster.url, owner, target, userId);
    }
    const roomsBefore = await roomCount(cluster.backing.postgres.endpoint.url);
    const faultAt = Date.now();
    const report = await runBarrage({
      baseUrl: cluster.url,
      room: target,
      token: await signUserToken(cluster.authSecret, "mallory"),
      authSecret: cluster.authSecret,
      attackerTokens: await Promise.all(Array.from({ length: ATTACKERS }, (_, i) => signUserToken(cluster.authSecret, `mallory-${i + 1}`))),
      total: ctx.scale.badInputs,
      seed: Number(process.env.GOMEET_DRILL_SEED ?? 20_240_605),
      maxFrameBytes: config.wsMaxFrameBytes,
      maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
      concurrency: HTTP_CONCURRENCY,
      progress: ctx.progress,
    });
    ctx.progress(`bad-input: ${report.inputs} inputs in ${seconds(report.durationMs)}, ${report.unexpected} unexpected answers`);
    // The hostile cases of issue 24 (deep nesting, silent resumes, garbage requests, close codes, many sockets).
    const hostile = await runHostileCases({
      baseUrl: cluster.url,
      instances: cluster.instances.map((i) => ({
        id: i.id,
        url: i.url,
        pid: i.pid,
        metricsUrl: i.metricsUrl,
      })),
      room: target,
      // Each case's user is a hostile member of the room too (the owner adds it), so its input reaches the frame handling.
      tokenFor: async (user) => {
        await addMember(cluster.url, owner, target, user);
        return signUserToken(cluster.authSecret, user);
      },
      maxSocketsPerUser: config.wsMaxSocketsPerUser,
    });
    ctx.progress(`bad-input: hostile cases, ${hostile.findings.length} findings`);
    const expected = members.map((m) => m.id).sort();
    let users: string[] = [];
    const presenceIntact = await waitFor(
      async () => {
        users = await participantUsers(cluster, target, observer);
        return JSON.stringify(users) === JSON.stringify(expected);
      },
      { timeoutMs: 5000, intervalMs: 100, what: "the attacked room's presence to list only its members" },
    ).then(
      () => true,
      () => false,
    );
    const roomsAfter = await roomCount(cluster.backing.postgres.endpoint.url);
    const stableAt = await load.waitStable({ after: Date.now() - 1000, timeoutMs: 10_000 });
    await sleep(LINGER_MS);
    return { faultAt, report, hostile, target, observer, presenceIntact, users, expected, roomsBefore, roomsAfter, stableAt };
  });
  const { overall: outage } = commonChecks(verdict, obs, value.faultAt);
  const { report } = value;
  verdict.detail(
    `${report.inputs} malformed inputs (${report.byChannel.http} HTTP, ${report.byChannel.upgrade} WebSocket upgrades, ${report.byChannel.frames} frames, ${report.byChannel.flood} in a flood) in ${seconds(report.durationMs)}`,
  );
  for (const line of describeCategories(report)) verdict.detail(line);
  for (const example of report.unexpectedExamples) verdict.detail(`  unexpected: ${example}`);
  verdict.require(report.inputs >= ctx.scale.badInputs, `only ${report.inputs} inputs were sent`);
  verdict.require(report.unexpected === 0, `${report.unexpected} input(s) were not refused as they should be`);
  verdict.require(report.published === 0, `${report.published} malformed frame(s) were published as messages`);
  for (const line of value.hostile.details) verdict.detail(`  hostile: ${line}`);
  for (const finding of value.hostile.findings) verdict.require(false, `hostile case: ${finding}`);

  // 0 crashes: every instance is the process it was, alive and live.
  for (const instance of cluster.instances) {
    const sameProcess = instance.running && instance.pid === pidsBefore.get(instance.id);
    verdict.require(
      sameProcess,
      `${instance.id} crashed or restarted during the barrage (pid ${pidsBefore.get(instance.id)} → ${instance.running ? instance.pid : "none"})`,
    );
    const live = await fetch(`${instance.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    verdict.require(live, `${instance.id} does not answer /healthz after the barrage`);
  }
  // State intact.
  verdict.require(value.roomsAfter === value.roomsBefore, `the room count changed from ${value.roomsBefore} to ${value.roomsAfter}`);
  verdict.require(
    value.presenceIntact,
    `the attacked room lists ${value.users.join(", ")} instead of its members ${value.expected.join(", ")}`,
  );
  const members = load.rooms.get(value.target) ?? [];
  const lastSeen = Math.max(...members.map((c) => c.lastSeq));
  const seq = await roomSeq(cluster, value.target, value.observer);
  verdict.require(
    seq === lastSeen,
    `the attacked room's seq is ${seq}, but its members last saw ${lastSeen}: something was appended to its history`,
  );
  verdict.require(obs.failedRequests.length === 0, `${obs.failedRequests.length} request(s) of the real load failed`);
  verdict.require(value.stableAt !== undefined, "the real load was not served without failures after the barrage");
  verdict.detail(`rooms ${value.roomsBefore} → ${value.roomsAfter}; attacked room seq ${seq} (members last saw ${lastSeen})`);
  return verdict.resultFromLoad(obs, { recoveryMs: outage, degradedSeen: load.readiness.degradedSeen(value.faultAt) });
}

export const badInput: Drill = {
  name: "bad-input",
  description: "10,000 generated malformed inputs against WebSocket and HTTP; pass: 0 crashes, state intact",
  run: (ctx) => runBadInput(ctx),
};
