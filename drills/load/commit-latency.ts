/**
 * The price of a synchronous standby, measured on the running formation: INSERT latency with
 * `synchronous_commit = local` (acknowledged once the primary has the commit: what DigitalOcean's
 * asynchronous standby gives, and the cluster's default) against `synchronous_commit = on` (the
 * commit also waits until the standby named in synchronous_standby_names has flushed it: no
 * acknowledged write can be lost in a failover). Alternated on one direct (unpooled) connection —
 * `SET` is session state, which a transaction-mode pool would not keep.
 */
import { Client } from "pg";

export interface CommitLatency {
  samples: number;
  /** pg_stat_replication.sync_state of the standbys named in synchronous_standby_names ("quorum" or "sync" when they are waited for). */
  standbySyncStates: string[];
  asyncP50Ms: number;
  asyncP99Ms: number;
  syncP50Ms: number;
  syncP99Ms: number;
}

function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round((sorted[index] ?? NaN) * 1000) / 1000;
}

/** `samples` INSERTs in each mode, alternating; the table is dropped afterwards. */
export async function measureCommitLatency(primaryUrl: string, samples: number): Promise<CommitLatency> {
  const client = new Client({ connectionString: primaryUrl, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const [names] = (await client.query<{ synchronous_standby_names: string }>("SHOW synchronous_standby_names")).rows;
    if ((names?.synchronous_standby_names ?? "") === "") {
      throw new Error("synchronous_standby_names is empty on the primary: no standby to wait for, the measurement would compare nothing");
    }
    const states = (
      await client.query<{ sync_state: string }>(
        "SELECT sync_state FROM pg_stat_replication WHERE application_name LIKE 'pgautofailover_standby_%'",
      )
    ).rows.map((row) => row.sync_state);
    if (!states.some((state) => state === "quorum" || state === "sync")) {
      throw new Error(
        `no standby is synchronous (pg_stat_replication sync_state: ${states.join(", ") || "none"}): the measurement would compare nothing`,
      );
    }
    await client.query("CREATE TABLE IF NOT EXISTS drill_commit_latency (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())");
    const times: Record<"local" | "on", number[]> = { local: [], on: [] };
    for (let i = 0; i < samples; i++) {
      for (const mode of ["local", "on"] as const) {
        await client.query(`SET synchronous_commit = ${mode}`);
        const began = performance.now();
        await client.query("INSERT INTO drill_commit_latency DEFAULT VALUES");
        times[mode].push(performance.now() - began);
      }
    }
    await client.query("DROP TABLE drill_commit_latency");
    const local = [...times.local].sort((a, b) => a - b);
    const on = [...times.on].sort((a, b) => a - b);
    return {
      samples,
      standbySyncStates: states,
      asyncP50Ms: percentile(local, 50),
      asyncP99Ms: percentile(local, 99),
      syncP50Ms: percentile(on, 50),
      syncP99Ms: percentile(on, 99),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
