/**
 * Sends a generated barrage of malformed inputs through the load balancer: HTTP requests, WebSocket
 * upgrade requests, and frames on open WebSockets (several "attacker" connections in a real room,
 * paced under the per-connection rate limit, plus one flood over it). Every answer is classified:
 * a refusal (4xx, an error frame, the close code the protocol prescribes) is expected; anything
 * else (2xx, 5xx, an accepted upgrade, a published message, an unexplained close) is a finding.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { Attacker } from "./attacker";
import { badTokens, type BadTokens } from "./bad-tokens";
import { httpInput, type HttpInput } from "./http-inputs";
import { Random } from "./random";
import { Tally } from "./tally";
import { frameInput, upgradeInput, type FrameInput, type UpgradeInput } from "./ws-inputs";

export interface BarrageOptions {
  /** The load balancer. */
  baseUrl: string;
  /** A real room (the attackers join it; the drill's clients are in it). */
  room: string;
  /** A valid token (its user is not a drill client) and the secret, for the bad tokens. */
  token: string;
  authSecret: string;
  /** Valid tokens of the attacker connections, one each. */
  attackerTokens: string[];
  /** Total number of malformed inputs (at least 100). */
  total: number;
  seed: number;
  /** The app's WS_MAX_FRAME_BYTES. */
  maxFrameBytes: number;
  /** The app's WS_MAX_MESSAGES_PER_SECOND: attackers stay under it, the flood goes over it. */
  maxMessagesPerSecond: number;
  concurrency: number;
  progress?: (line: string) => void;
}

export interface BarrageReport {
  inputs: number;
  byChannel: { http: number; upgrade: number; frames: number; flood: number };
  /** Inputs per category, with the answers they got ("401", "error invalid_frame", "close 1009", ...). */
  categories: Map<string, Map<string, number>>;
  unexpected: number;
  /** Each kind of unexpected answer (up to 20 kinds) with its count and an example. */
  unexpectedExamples: string[];
  /** Messages the attackers' frames got published as (must be 0). */
  published: number;
  durationMs: number;
}

/** Runs `task` for each index with at most `concurrency` in flight. */
async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

const is4xx = (status: number): boolean => status >= 400 && status < 500;

async function sendHttp(baseUrl: string, input: HttpInput, tally: Tally): Promise<void> {
  try {
    const response = await fetch(`${baseUrl}${input.path}`, {
      method: input.method,
      headers: input.headers,
      body: input.body,
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    tally.record(
      input.category,
      String(response.status),
      is4xx(response.status),
      `${input.method} ${input.path.slice(0, 80)} → ${text.slice(0, 160)}`,
    );
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const answer = `no response (${cause?.code ?? cause?.message ?? (error as Error).message})`;
    // A server may refuse an oversized upload and close before reading it: the client then sees a reset.
    tally.record(input.category, answer, input.category === "http oversized body", `${input.method} ${input.path.slice(0, 80)}`);
  }
}

function sendUpgrade(base: URL, input: UpgradeInput, tally: Tally): Promise<void> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (answer: string, expected: boolean, detail?: string): void => {
      if (settled) return;
      settled = true;
      tally.record(input.category, answer, expected, detail);
      resolve();
    };
    const req = http.request({
      host: base.hostname,
      port: base.port,
      path: input.path,
      method: "GET",
      agent: false,
      timeout: 10_000,
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
      },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
      res.on("end", () => done(String(res.statusCode), is4xx(res.statusCode ?? 0), `${input.path.slice(0, 100)} → ${body.slice(0, 160)}`));
      res.on("error", () => done(String(res.statusCode), is4xx(res.statusCode ?? 0)));
    });
    req.on("upgrade", (_res, socket) => {
      socket.destroy();
      done("101 accepted", false, input.path.slice(0, 160));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) => done(`no response (${error.message})`, false, input.path.slice(0, 160)));
    req.end();
  });
}

export async function runBarrage(options: BarrageOptions): Promise<BarrageReport> {
  if (options.total < 100) throw new Error(`runBarrage: total must be at least 100, got ${options.total}`);
  const began = Date.now();
  const tally = new Tally();
  const tokens: BadTokens = await badTokens(options.authSecret, options.token);
  const base = new URL(options.baseUrl);
  const flood = Math.max(options.maxMessagesPerSecond * 3, Math.round(options.total * 0.02));
  const httpCount = Math.round(options.total * 0.4);
  const upgradeCount = Math.round(options.total * 0.2);
  const frameCount = options.total - httpCount - upgradeCount - flood;
  const httpRng = new Random(options.seed);
  const upgradeRng = new Random(options.seed + 1);
  const frameRng = new Random(options.seed + 2);
  const progress = options.progress ?? (() => undefined);

  const wsUrl = (token: string): string => {
    const url = new URL("/ws", options.baseUrl.replace(/^http/, "ws"));
    url.searchParams.set("room", options.room);
    url.searchParams.set("access_token", token);
    return url.toString();
  };
  if (options.attackerTokens.length < 2) throw new Error("runBarrage: at least two attacker tokens are needed (one floods)");
  const attackers = options.attackerTokens.map((token, i) => new Attacker(wsUrl(token), `mallory-${i + 1}`, tally));
  await Promise.all(attackers.map((a) => a.connect()));
  const [flooder, ...pacers] = attackers as [Attacker, ...Attacker[]];
  const frames = Array.from({ length: frameCount }, (_, i) => frameInput(frameRng, i, options.maxFrameBytes));
  const httpInputs = Array.from({ length: httpCount }, (_, i) => httpInput(httpRng, i, options.room, options.token, tokens));
  // Each attacker stays under the per-connection rate limit (with a margin for timer jitter).
  const pauseMs = Math.ceil(1000 / (options.maxMessagesPerSecond * 0.7));
  let nextFrame = 0;
  const attack = async (attacker: Attacker): Promise<void> => {
    while (nextFrame < frames.length) {
      await attacker.send(frames[nextFrame++] as FrameInput);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  progress(
    `bad-input: ${options.total} malformed inputs (${httpCount} HTTP, ${upgradeCount} upgrades, ${frameCount} frames, ${flood} in a flood), seed ${options.seed}`,
  );
  await Promise.all([
    pool(httpCount, options.concurrency, (i) => sendHttp(options.baseUrl, httpInputs[i] as HttpInput, tally)),
    pool(upgradeCount, options.concurrency, (i) =>
      sendUpgrade(base, upgradeInput(upgradeRng, i, options.room, options.token, tokens), tally),
    ),
    Promise.all(pacers.map(attack)),
    flooder.flood(Array.from({ length: flood }, (_, i) => frameInput(frameRng, 2 + (i % 2), options.maxFrameBytes))),
  ]);
  // Late answers: a message the server published would reach the attackers within moments.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const published = attackers.reduce((sum, a) => sum + a.published, 0);
  await Promise.all(attackers.map((a) => a.close()));
  if (published > 0) tally.record("ws frames", `${published} published as messages`, false);
  return {
    inputs: httpCount + upgradeCount + frameCount + flood,
    byChannel: { http: httpCount, upgrade: upgradeCount, frames: frameCount, flood },
    categories: tally.categories,
    unexpected: tally.unexpected,
    unexpectedExamples: tally.examples(),
    published,
    durationMs: Date.now() - began,
  };
}
