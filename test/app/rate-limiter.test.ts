/** The per-connection token bucket, on a fake clock. */
import { TokenBucket } from "../../app/src/realtime/rate-limiter";

test("a full bucket allows one second of burst, then refills at the rate", () => {
  let now = 0;
  const bucket = new TokenBucket(20, () => now);
  const burst = Array.from({ length: 40 }, () => bucket.take());
  expect(burst.filter(Boolean)).toHaveLength(20);
  expect(burst.slice(0, 20).every(Boolean)).toBe(true);
  now += 100; // 2 tokens
  expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  now += 10_000; // never more than one second of burst
  expect(Array.from({ length: 25 }, () => bucket.take()).filter(Boolean)).toHaveLength(20);
});
