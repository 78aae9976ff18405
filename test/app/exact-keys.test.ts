/**
 * Keys derived from users' ids, against a real redis-server: the LiveKit token cache and the per-user rate limit.
 * Two users whose ids differ by an embedded newline (once a field separator) or by a lone surrogate (which UTF-8
 * turns into U+FFFD, so "x\uD800" and "x\uDC00" once encoded alike) never share a cached token or a bucket.
 * (The app refuses such ids at the door too: test/app/jwt.test.ts; these keys must not depend on that.)
 */
import type { ServerResponse } from "node:http";
import { HttpError } from "../../app/src/errors";
import { RateLimits, rateLimitKey } from "../../app/src/http/rate-limits";
import { TokenCache, type TokenLookup } from "../../app/src/livekit/token-cache";
import { createLogger } from "../../app/src/logger";
import { AppMetrics } from "../../app/src/metrics";
import { ValkeyConnections } from "../../app/src/valkey/connections";
import { stopAll } from "../../harness/process";
import { startRedis } from "../../harness/redis";

const logger = createLogger("silent", "keys");
const metrics = new AppMetrics("keys");
let redis: ValkeyConnections;

/** Pairs of (user id, display name) that a separator-joined or UTF-8-hashed key could not tell apart. */
const LOOKALIKES: Array<[string, [string, string], [string, string]]> = [
  ["a newline inside the id vs. at the start of the name", ["a\nb", "c"], ["a", "b\nc"]],
  ["two different lone high and low surrogates", ["x\uD800", "x"], ["x\uDC00", "x"]],
  ["a lone surrogate vs. U+FFFD, what UTF-8 turns it into", ["x\uD83D", "x"], ["x\uFFFD", "x"]],
];

beforeAll(async () => {
  const server = await startRedis();
  redis = new ValkeyConnections(
    { url: server.url, connectTimeoutMs: 2000, roleCheckIntervalMs: 1000, scripts: {} },
    "keys",
    logger,
    metrics,
  );
  await redis.start();
}, 30_000);

afterAll(async () => {
  await redis?.stop();
  await stopAll();
});

function lookup(room: string, [userId, userName]: [string, string]): TokenLookup {
  return { deployment: "lk-a", roomId: room, userId, userName, grants: "1111" };
}

test.each(LOOKALIKES)("token cache: %s never share an entry, in memory or in Valkey", async (_label, first, second) => {
  const room = `keys-${Math.random().toString(36).slice(2)}`;
  const writer = new TokenCache<string>(redis, logger);
  const firstKey = TokenCache.memoryKey(lookup(room, first));
  const secondKey = TokenCache.memoryKey(lookup(room, second));
  expect(secondKey).not.toBe(firstKey);
  writer.store(firstKey, lookup(room, first), { issued: `token of ${JSON.stringify(first)}`, cachedUntil: Date.now() + 60_000 });
  // Another instance (an empty memory) finds the first user's entry in Valkey, and nothing for the second user.
  const reader = new TokenCache<string>(redis, logger);
  await expect(waitForValkey(reader, firstKey, lookup(room, first))).resolves.toBe(`token of ${JSON.stringify(first)}`);
  expect(await reader.fromValkey(secondKey, lookup(room, second))).toBeUndefined();
  expect(writer.fromMemory(secondKey)).toBeUndefined();
});

test.each(LOOKALIKES)("rate limit: %s never share a bucket", async (_label, [first], [second]) => {
  expect(rateLimitKey(second, "token_issue")).not.toBe(rateLimitKey(first, "token_issue"));
  const limits = new RateLimits({ windowSeconds: 60, roomCreates: 1, livekitGrants: 1 }, redis, metrics, logger);
  const res = { setHeader: () => undefined } as unknown as ServerResponse;
  const suffix = Math.random().toString(36).slice(2);
  await limits.take(first + suffix, "room_create", res);
  await expect(limits.take(first + suffix, "room_create", res)).rejects.toBeInstanceOf(HttpError);
  // The second user's first call is theirs alone: allowed.
  await expect(limits.take(second + suffix, "room_create", res)).resolves.toBeUndefined();
});

/** The entry, once the background write reached Valkey. */
async function waitForValkey(cache: TokenCache<string>, key: string, lookupOf: TokenLookup): Promise<string | undefined> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const found = await cache.fromValkey(key, lookupOf);
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}
