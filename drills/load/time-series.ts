/**
 * The drill load as a time series: per bucket of BUCKET_MS, the operations delivered (WebSocket messages
 * acknowledged, HTTP requests answered successfully) and the operations that failed (WebSocket failures: a
 * disconnect, a refused connection, an error frame; HTTP requests that failed), each counted at the time it ended.
 */
import type { RequestSample } from "./http-load";

export const BUCKET_MS = 250;

export interface LoadPoint {
  /** Start of the bucket, epoch ms. */
  at: number;
  delivered: number;
  failed: number;
}

export interface LoadSeries {
  bucketMs: number;
  points: LoadPoint[];
}

/** What the series reads of a WebSocket client. */
export interface SeriesClient {
  acks: readonly { ackAt: number }[];
  failures: readonly { at: number }[];
}

/** Buckets every outcome between `from` and `to` (epoch ms); outcomes outside are left out. */
export function loadSeries(
  clients: readonly SeriesClient[],
  samples: readonly Pick<RequestSample, "end" | "ok">[],
  from: number,
  to: number,
  bucketMs = BUCKET_MS,
): LoadSeries {
  const count = Math.max(1, Math.ceil((to - from) / bucketMs));
  const points: LoadPoint[] = Array.from({ length: count }, (_, i) => ({ at: from + i * bucketMs, delivered: 0, failed: 0 }));
  const add = (at: number, key: "delivered" | "failed") => {
    if (at < from || at >= from + count * bucketMs) return;
    points[Math.floor((at - from) / bucketMs)]![key] += 1;
  };
  for (const c of clients) {
    for (const a of c.acks) add(a.ackAt, "delivered");
    for (const f of c.failures) add(f.at, "failed");
  }
  for (const s of samples) add(s.end, s.ok ? "delivered" : "failed");
  return { bucketMs, points };
}
