/**
 * The client worker's HTTP load: token requests (POST /rooms/:id/token) at a fixed rate spread over the
 * servers on keep-alive agents. Of those issued after the warm-up, the latency of each successful answer (2xx)
 * is recorded; the others (non-2xx, errors, timeouts) are counted apart, so a fast failure never counts as a fast
 * answer. "cached" mode reuses a few (room, user) pairs on every server; otherwise each request has a new display name
 * (a cache miss: the cache is keyed by identity and name), from the rooms' fixed members.
 */
import http from "node:http";
import { performance } from "node:perf_hooks";
import { LatencyHistogram } from "./histogram";
import { jwtFor } from "./worker-jwt";
import type { HttpLoadReply, HttpLoadRequest } from "./worker-protocol";

const MAX_ERRORS_KEPT = 5;
const HTTP_REQUEST_TIMEOUT_MS = 5000;

/** A token request succeeded: a 2xx answer (the app answers 200 with the token). */
export function isSuccess(status: string): boolean {
  return /^2\d\d$/.test(status);
}

export async function httpLoad(request: HttpLoadRequest): Promise<HttpLoadReply> {
  const total = Math.ceil((request.ratePerSecond * request.durationMs) / 1000);
  const targets = request.servers.map((server) => {
    const url = new URL(server);
    return { host: url.hostname, port: Number(url.port), agent: new http.Agent({ keepAlive: true, maxSockets: request.socketsPerServer }) };
  });
  // JWTs are signed before the clock starts: the load is the server's work, not ours.
  // Only members get tokens: member k of the run's set belongs to rooms[k % rooms]; pair i uses member i % members, so
  // its room (rooms[i % rooms]) is that member's. Signed mode gives every request its own display name.
  const members = request.rooms.length * request.usersPerRoom;
  const users = Array.from({ length: request.mode === "cached" ? members : total }, (_, i) => ({
    id: `${request.memberPrefix}-${i % members}`,
    name: `${request.userPrefix}-${i}`,
  }));
  const tokens = await Promise.all(users.map((user) => jwtFor(user.id, user.name)));
  const body = "{}";
  const histogram = new LatencyHistogram();
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  let measured = 0;
  let recorded = 0;
  let failed = 0;
  let finished = 0;
  let firstRecorded = Number.POSITIVE_INFINITY;
  let lastRecorded = 0;

  const issue = (i: number, record: boolean): Promise<void> =>
    new Promise((resolve) => {
      // From the moment the request is handed to the agent: waiting for a free keep-alive socket
      // counts, the timer tick's own lateness (up to ~1 ms at 1,000 requests/s) does not.
      const issuedAt = performance.now();
      const target = targets[i % targets.length] as (typeof targets)[number];
      // Cached: each (room, user) pair visits every server in turn, so every instance's memory cache is warm.
      const pair = request.mode === "cached" ? Math.floor(i / targets.length) % users.length : i;
      const room = request.rooms[pair % request.rooms.length] as string;
      const done = (status: string): void => {
        finished++;
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (record) {
          const end = performance.now();
          if (isSuccess(status)) histogram.record(end - issuedAt);
          else failed++;
          recorded++;
          firstRecorded = Math.min(firstRecorded, issuedAt);
          lastRecorded = Math.max(lastRecorded, end);
        }
        resolve();
      };
      const req = http.request(
        {
          host: target.host,
          port: target.port,
          agent: target.agent,
          method: "POST",
          path: `/rooms/${room}/token`,
          headers: {
            authorization: `Bearer ${tokens[pair] as string}`,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
          timeout: HTTP_REQUEST_TIMEOUT_MS,
        },
        (res) => {
          res.on("data", () => undefined);
          res.on("end", () => done(String(res.statusCode)));
          res.on("error", (error) => {
            if (failures.length < MAX_ERRORS_KEPT) failures.push(error.message);
            done("error");
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${HTTP_REQUEST_TIMEOUT_MS} ms`)));
      req.on("error", (error) => {
        if (failures.length < MAX_ERRORS_KEPT && !failures.includes(error.message)) failures.push(error.message);
        done("error");
      });
      req.end(body);
    });

  const started = performance.now();
  const inflight: Promise<void>[] = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - started) / 1000) * request.ratePerSecond));
      for (; sent < due; sent++) {
        const scheduledAt = started + (sent * 1000) / request.ratePerSecond;
        const record = scheduledAt - started >= request.warmupMs;
        if (record) measured++;
        inflight.push(issue(sent, record));
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all(inflight), new Promise((resolve) => (timer = setTimeout(resolve, HTTP_REQUEST_TIMEOUT_MS * 2)))]);
  clearTimeout(timer);
  for (const target of targets) target.agent.destroy();
  const unfinished = sent - finished;
  if (unfinished > 0) statuses.unfinished = unfinished;
  const spanSeconds = (lastRecorded - firstRecorded) / 1000;
  return {
    sent,
    recorded,
    // Measured requests without a 2xx answer: non-2xx, errors, and those still unanswered at the end.
    failed: failed + (measured - recorded),
    latency: histogram.toSparse(),
    statuses,
    errors: failures,
    ratePerSecond: spanSeconds > 0 ? recorded / spanSeconds : 0,
  };
}
