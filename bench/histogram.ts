/**
 * A latency histogram that costs one array increment per sample and merges across processes.
 *
 * Resolution: 10 µs below 10 ms, 100 µs below 100 ms, 1 ms below 10 s; longer samples share one
 * overflow bucket (reported as "≥ 10 s"). Percentiles are the upper edge of the bucket they fall in,
 * so they never flatter the system measured.
 */

interface Tier {
  /** Exclusive upper bound of the tier, in ms. */
  limitMs: number;
  widthMs: number;
}

const TIERS: readonly Tier[] = [
  { limitMs: 10, widthMs: 0.01 },
  { limitMs: 100, widthMs: 0.1 },
  { limitMs: 10_000, widthMs: 1 },
];

/** First bucket index of each tier, and the overflow bucket's index. */
const TIER_START: number[] = [];
let bucketCount = 0;
{
  let lower = 0;
  for (const tier of TIERS) {
    TIER_START.push(bucketCount);
    bucketCount += Math.round((tier.limitMs - lower) / tier.widthMs);
    lower = tier.limitMs;
  }
}
const OVERFLOW = bucketCount;
const BUCKETS = bucketCount + 1;

function bucketOf(ms: number): number {
  let lower = 0;
  for (let t = 0; t < TIERS.length; t++) {
    const tier = TIERS[t] as Tier;
    if (ms < tier.limitMs) return (TIER_START[t] as number) + Math.floor((Math.max(ms, 0) - lower) / tier.widthMs);
    lower = tier.limitMs;
  }
  return OVERFLOW;
}

function upperEdgeMs(bucket: number): number {
  if (bucket >= OVERFLOW) return Number.POSITIVE_INFINITY;
  let lower = 0;
  for (let t = 0; t < TIERS.length; t++) {
    const tier = TIERS[t] as Tier;
    const next = t + 1 < TIERS.length ? (TIER_START[t + 1] as number) : OVERFLOW;
    if (bucket < next) return lower + (bucket - (TIER_START[t] as number) + 1) * tier.widthMs;
    lower = tier.limitMs;
  }
  return Number.POSITIVE_INFINITY;
}

/** Non-empty buckets as [index, count] pairs: what crosses the IPC channel. */
export type SparseHistogram = Array<[number, number]>;

export class LatencyHistogram {
  private counts = new Uint32Array(BUCKETS);
  private total = 0;

  record(ms: number): void {
    const index = bucketOf(ms);
    this.counts[index] = (this.counts[index] as number) + 1;
    this.total++;
  }

  get count(): number {
    return this.total;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
  }

  toSparse(): SparseHistogram {
    const pairs: SparseHistogram = [];
    for (let i = 0; i < BUCKETS; i++) {
      const n = this.counts[i] as number;
      if (n > 0) pairs.push([i, n]);
    }
    return pairs;
  }

  add(sparse: SparseHistogram): void {
    for (const [index, n] of sparse) {
      if (!Number.isInteger(index) || index < 0 || index >= BUCKETS)
        throw new Error(`histogram bucket ${index} out of range 0-${BUCKETS - 1}`);
      this.counts[index] = (this.counts[index] as number) + n;
      this.total += n;
    }
  }

  /** The latency (ms) below which `fraction` (0-1) of the samples fall; NaN when empty. */
  percentile(fraction: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(fraction * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return upperEdgeMs(i);
    }
    return Number.POSITIVE_INFINITY;
  }

  static merge(parts: readonly SparseHistogram[]): LatencyHistogram {
    const merged = new LatencyHistogram();
    for (const part of parts) merged.add(part);
    return merged;
  }
}
