/**
 * postgres-failover: SIGKILL the PostgreSQL primary node (its pg_auto_failover keeper and its server:
 * the machine is gone) under the usual load plus a steady stream of acknowledged writes (POST /rooms)
 * and reads (GET /rooms/:id). The monitor promotes the hot standby, the endpoint follows it, PgBouncer
 * reconnects, the read-only replica follows the new timeline; then the old node is started again and
 * rejoins as the standby (pg_rewind), as DigitalOcean replaces a failed node.
 *
 * Figures in the JSON besides the usual ones: writeOutageSeconds (last successful write before the
 * fault to the first after), ackedWritesLost (writes answered 201 whose room is not in the database
 * afterwards: the RPO, counted), failedReads, appRestarts, promotionSeconds (fault to the monitor
 * naming the new primary), replicaStaleSeconds (fault to the read-only replica having the first write
 * made after it), replicaRebuilt (it could not follow the new timeline within 15 s and was made again
 * from the new primary), and the write latency with and without a synchronous standby, measured in the same run.
 *
 * Pass: writes back within 10 s of the fault, 0 failed reads, 0 app restarts, every failed write a
 * fast 503 database_unavailable, nothing else failed, nothing lost or duplicated in realtime, /readyz
 * degraded, the read-only replica has a write made after the failover within 30 s (followed or rebuilt). Acknowledged writes lost are reported, not judged: with an asynchronous standby (as on
 * DigitalOcean) losing the last commits is possible by design; synchronous_commit = on is what brings
 * it to 0, at the measured price.
 */
import type { FormationNode } from "../../harness/pg-formation";
import { waitFor } from "../../harness/process";
import { measureCommitLatency, type CommitLatency } from "../load/commit-latency";
import { missingRooms } from "../load/database";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";

/** The target: writes back within 10 s of the primary's death. */
const MAX_WRITE_OUTAGE_MS = 10_000;
/** A failed write must answer within this long ("fail fast"). */
const FAIL_FAST_MS = 2500;
const COMMIT_LATENCY_SAMPLES = 100;
/** How long the read-only replica gets to stream from the new primary before it is rebuilt. */
const REPLICA_FOLLOW_TIMEOUT_MS = 15_000;

export const postgresFailover: Drill = {
  name: "postgres-failover",
  description: `SIGKILL the PostgreSQL primary node; pass: the standby is promoted, writes back within ${MAX_WRITE_OUTAGE_MS / 1000} s, 0 failed reads, 0 app restarts`,
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("postgres-failover");
    const { postgres } = ctx.cluster.backing;
    const victim = await postgres.currentPrimary();
    if (victim === undefined) throw new Error("the pg_auto_failover monitor names no primary");
    const pidsBefore = new Map(ctx.cluster.instances.map((i) => [i.id, i.pid]));
    let killed: FormationNode | undefined;
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "postgres-failover", unreadRooms: 2000 }, async (load) => {
        const latency: CommitLatency = await measureCommitLatency(postgres.endpoint.url, COMMIT_LATENCY_SAMPLES);
        ctx.progress(
          `postgres-failover: INSERT p50/p99 ${latency.asyncP50Ms}/${latency.asyncP99Ms} ms asynchronous, ` +
            `${latency.syncP50Ms}/${latency.syncP99Ms} ms with synchronous_commit = on`,
        );
        ctx.progress(
          `postgres-failover: SIGKILL the primary node ${victim.name} (keeper pid ${victim.process.pid}, postgres pid ${victim.postgresPid() ?? "?"})`,
        );
        const faultAt = Date.now();
        await victim.kill();
        killed = victim;
        let promotedAt = 0;
        let promoted = "none";
        await waitFor(
          async () => {
            const now = await postgres.currentPrimary();
            if (now === undefined || now === victim) return false;
            promotedAt = Date.now();
            promoted = now.name;
            return true;
          },
          { timeoutMs: 30_000, intervalMs: 100, what: "the monitor to promote the standby" },
        );
        const stableAt = await load.waitStable({ after: faultAt, timeoutMs: 30_000 });
        // The read-only replica follows the new timeline through the endpoint. One that had received WAL the
        // promoted standby never got cannot: it is made again from the new primary, as DigitalOcean replaces such a node.
        let replicaRebuilt = false;
        try {
          await waitFor(() => postgres.replicaStreaming(), {
            timeoutMs: REPLICA_FOLLOW_TIMEOUT_MS,
            what: "the read-only replica to follow the new primary",
          });
        } catch (error) {
          ctx.progress(`postgres-failover: ${(error as Error).message}; rebuilding it from the new primary`);
          await postgres.rebuildReplica();
          replicaRebuilt = true;
        }
        // The read-only replica is stale until it has what the new primary took: the first write acknowledged after the fault.
        let replicaCaughtUpAt: number | undefined;
        await waitFor(
          async () => {
            const first = load.http.samples.find((s) => s.kind === "write" && s.ok && s.start >= faultAt && s.roomId !== undefined);
            if (first?.roomId === undefined) return false;
            if ((await missingRooms(postgres.replica.url, [first.roomId])).length > 0) return false;
            replicaCaughtUpAt = Date.now();
            return true;
          },
          { timeoutMs: 30_000, intervalMs: 100, what: "the read-only replica to have a write made after the failover" },
        ).catch((error: unknown) => ctx.progress(`postgres-failover: ${(error as Error).message}`)); // judged below: replicaCaughtUpAt
        ctx.progress(
          `postgres-failover: ${promoted} promoted after ${seconds(promotedAt - faultAt)}; restarting ${victim.name} as the standby`,
        );
        const restartAt = Date.now();
        await victim.start();
        killed = undefined;
        const rejoinedMs = Date.now() - restartAt;
        await waitFor(() => postgres.replicaStreaming(), {
          timeoutMs: 30_000,
          what: "the read-only replica to stream from the new primary",
        });
        await sleep(LINGER_MS);
        return { faultAt, promotedAt, promoted, stableAt, replicaCaughtUpAt, replicaRebuilt, rejoinedMs, latency };
      });
      const { faultAt } = value;
      commonChecks(verdict, obs, faultAt);
      const degradedSeen = load.readiness.degradedSeen(faultAt);
      const reads = obs.samples.filter((s) => s.kind === "read");
      const failedReads = reads.filter((s) => !s.ok);
      const writes = obs.samples.filter((s) => s.kind === "write");
      const okWrites = writes.filter((s) => s.ok);
      const lastBefore = Math.max(...okWrites.filter((s) => s.end <= faultAt).map((s) => s.end));
      const firstAfter = Math.min(...okWrites.filter((s) => s.start >= faultAt).map((s) => s.end));
      const writeOutageMs = firstAfter - lastBefore;
      const failedWrites = writes.filter((s) => !s.ok);
      const unclear = failedWrites.filter((s) => s.status !== 503 || s.error !== "database_unavailable");
      const slowest = Math.max(0, ...failedWrites.map((s) => s.end - s.start));
      const acknowledged = okWrites.flatMap((s) => (s.roomId === undefined ? [] : [s.roomId]));
      const lostWrites = await missingRooms(postgres.endpoint.url, acknowledged);
      const appRestarts = ctx.cluster.instances.filter((i) => !i.running || i.pid !== pidsBefore.get(i.id)).length;
      const otherFailures = obs.failedRequests.filter((s) => s.kind !== "write" && s.kind !== "read");
      const readsDuringOutage = reads.filter((s) => s.start >= faultAt && s.end <= firstAfter).length;
      const { latency } = value;
      verdict.detail(
        `primary ${victim.name} → ${value.promoted} (monitor) after ${seconds(value.promotedAt - faultAt)}; old node rejoined as standby in ${seconds(value.rejoinedMs)}`,
      );
      verdict.detail(
        `writes: ${writes.length}, ${failedWrites.length} failed (slowest ${seconds(slowest)}); outage ${seconds(writeOutageMs)}; ${lostWrites.length} of ${acknowledged.length} acknowledged lost`,
      );
      verdict.detail(
        `reads: ${reads.length} (${readsDuringOutage} during the write outage), ${failedReads.length} failed; replica ` +
          `${value.replicaRebuilt ? "could not follow and was rebuilt, " : "followed the new timeline, "}stale until ` +
          `${value.replicaCaughtUpAt === undefined ? "never" : seconds(value.replicaCaughtUpAt - faultAt)} after the fault`,
      );
      verdict.detail(
        `INSERT latency p50/p99: ${latency.asyncP50Ms}/${latency.asyncP99Ms} ms asynchronous (synchronous_commit = local), ${latency.syncP50Ms}/${latency.syncP99Ms} ms synchronous (on, standby sync_state ${latency.standbySyncStates.join(", ")}), ${latency.samples} each`,
      );
      verdict.require(Number.isFinite(writeOutageMs), "no write succeeded after the fault");
      verdict.require(
        writeOutageMs <= MAX_WRITE_OUTAGE_MS,
        `writes were back only after ${seconds(writeOutageMs)} (target ${seconds(MAX_WRITE_OUTAGE_MS)})`,
      );
      verdict.require(failedWrites.length > 0, "no write failed: the drill tested nothing");
      verdict.require(
        unclear.length === 0,
        `${unclear.length} failed write(s) did not answer 503 database_unavailable (e.g. ${unclear[0]?.status} ${unclear[0]?.error ?? ""})`,
      );
      verdict.require(slowest <= FAIL_FAST_MS, `a failed write took ${seconds(slowest)} (limit ${seconds(FAIL_FAST_MS)})`);
      verdict.require(failedReads.length === 0, `${failedReads.length} read(s) failed`);
      verdict.require(readsDuringOutage > 0, "no read ran during the write outage: the drill tested nothing");
      verdict.require(appRestarts === 0, `${appRestarts} app instance(s) restarted or died`);
      verdict.require(otherFailures.length === 0, `${otherFailures.length} request(s) other than writes failed`);
      verdict.require(degradedSeen, "no instance's /readyz reported the primary as down");
      verdict.require(value.stableAt !== undefined, "the service was not stable within 30 s of the fault");
      verdict.require(
        value.replicaCaughtUpAt !== undefined,
        "the read-only replica never had a write made after the failover (30 s): reads from it would stay stale",
      );
      const result = verdict.resultFromLoad(obs, { recoveryMs: writeOutageMs, degradedSeen });
      const round = (ms: number | undefined): number | null =>
        ms === undefined || !Number.isFinite(ms) ? null : Math.round(ms / 10) / 100;
      result.figures = {
        writeOutageSeconds: round(writeOutageMs),
        ackedWritesLost: lostWrites.length,
        ackedWrites: acknowledged.length,
        failedReads: failedReads.length,
        appRestarts,
        promotionSeconds: round(value.promotedAt - faultAt),
        replicaStaleSeconds: round(value.replicaCaughtUpAt === undefined ? undefined : value.replicaCaughtUpAt - faultAt),
        replicaRebuilt: value.replicaRebuilt,
        rejoinSeconds: round(value.rejoinedMs),
        commitLatencyMs: {
          samples: latency.samples,
          asyncP50: latency.asyncP50Ms,
          asyncP99: latency.asyncP99Ms,
          syncP50: latency.syncP50Ms,
          syncP99: latency.syncP99Ms,
        },
      };
      return result;
    } finally {
      if (killed !== undefined) {
        ctx.progress(`postgres-failover: restarting ${killed.name} after a failed drill`);
        await killed.start();
      }
    }
  },
};
