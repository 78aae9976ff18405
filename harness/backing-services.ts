/**
 * Everything the app instances of the local cluster depend on, started in parallel: Sentinel-managed
 * Redis behind its HAProxy endpoint, PostgreSQL as DigitalOcean runs it (pg_auto_failover primary + hot
 * standby behind an endpoint that follows the primary, PgBouncer in transaction mode in front, a
 * read-only replica; see postgres-ha.ts), and LiveKit stand-ins.
 * (The app instances and the nginx in front of them are the cluster script's part.)
 */
import { startLivekitStandIn, type LivekitStandIn } from "./livekit-standin";
import { startPostgresHA, type PostgresHA } from "./postgres-ha";
import { startSentinelHA, type SentinelHA } from "./sentinel";

export interface BackingServices {
  redis: SentinelHA;
  postgres: PostgresHA;
  livekit: LivekitStandIn[];
  /** Milliseconds each part took to become ready, and the whole ("total"). */
  startupMs: { redis: number; postgres: number; livekit: number; total: number };
  stop(): Promise<void>;
}

async function timed<T>(start: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const began = Date.now();
  const value = await start();
  return { value, ms: Date.now() - began };
}

/**
 * Starts the backing services; if any part fails, the parts that did start are stopped and the
 * first failure is thrown.
 */
export async function startBackingServices(opts: { livekitDeployments?: string[] } = {}): Promise<BackingServices> {
  const names = opts.livekitDeployments ?? ["livekit-a", "livekit-b"];
  const began = Date.now();
  const [redis, postgres, livekit] = await Promise.allSettled([
    timed(startSentinelHA),
    timed(startPostgresHA),
    timed(() => Promise.all(names.map(startLivekitStandIn))),
  ]);
  const total = Date.now() - began;
  if (redis.status === "rejected" || postgres.status === "rejected" || livekit.status === "rejected") {
    await Promise.allSettled([
      redis.status === "fulfilled" ? redis.value.value.stop() : undefined,
      postgres.status === "fulfilled" ? postgres.value.value.stop() : undefined,
      ...(livekit.status === "fulfilled" ? livekit.value.value.map((l) => l.stop()) : []),
    ]);
    const failure = [redis, postgres, livekit].find((r) => r.status === "rejected") as PromiseRejectedResult;
    throw failure.reason;
  }
  return {
    redis: redis.value.value,
    postgres: postgres.value.value,
    livekit: livekit.value.value,
    startupMs: { redis: redis.value.ms, postgres: postgres.value.ms, livekit: livekit.value.ms, total },
    stop: async () => {
      await Promise.all([redis.value.value.stop(), postgres.value.value.stop(), ...livekit.value.value.map((l) => l.stop())]);
    },
  };
}
