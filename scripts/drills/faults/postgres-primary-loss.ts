/**
 * postgres-primary-loss: SIGKILL the PostgreSQL server of the primary node (its pg_auto_failover keeper
 * survives and starts it again, as a managed service restarts a crashed server). Reads continue from
 * the replica; room creation fails fast with 503 database_unavailable and succeeds again once the
 * primary (restarted, or the standby if the monitor chose to fail over) takes writes. Recovery is
 * measured from the fault. Pass: 0 failed reads, every failed write a fast 503 database_unavailable,
 * writes succeed again, /readyz degraded. (A whole node lost is the postgres-failover drill.)
 */
import { waitFor } from "../../../harness/process";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";

/** A failed write must answer within this long ("fail fast"): the app's DB_CONNECT_TIMEOUT_MS default is 2 s. */
const FAIL_FAST_MS = 2500;

export const postgresPrimaryLoss: Drill = {
  name: "postgres-primary-loss",
  description: "SIGKILL the PostgreSQL primary server (its supervisor restarts it); pass: reads continue, writes fail fast with 503 and succeed again",
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("postgres-primary-loss");
    const { postgres } = ctx.cluster.backing;
    const primary = await postgres.currentPrimary();
    if (primary === undefined) throw new Error("the pg_auto_failover monitor names no primary");
    const { value, obs, load } = await withLoad(ctx, { name: "postgres-primary-loss" }, async (load) => {
      ctx.progress(`postgres-primary-loss: SIGKILL the PostgreSQL server of ${primary.name} (pid ${primary.postgresPid() ?? "?"})`);
      const faultAt = Date.now();
      await primary.killPostgres();
      const stableAt = await load.waitStable({ after: faultAt, timeoutMs: 30_000 });
      await waitFor(() => postgres.replicaStreaming(), { timeoutMs: 30_000, what: "the read-only replica to stream again" });
      const after = await postgres.currentPrimary();
      await sleep(LINGER_MS);
      return { faultAt, stableAt, after: after?.name ?? "none" };
    });
    commonChecks(verdict, obs, value.faultAt);
    const degradedSeen = load.readiness.degradedSeen(value.faultAt);
    const reads = obs.samples.filter((s) => s.kind === "read");
    const failedReads = reads.filter((s) => !s.ok);
    const writes = obs.samples.filter((s) => s.kind === "write");
    const failedWrites = writes.filter((s) => !s.ok && s.start >= value.faultAt);
    const firstFailed = failedWrites[0];
    const lastFailed = failedWrites[failedWrites.length - 1];
    const readsDuringOutage = reads.filter((s) => firstFailed !== undefined && lastFailed !== undefined && s.start >= firstFailed.start && s.end <= lastFailed.end).length;
    const unclear = writes.filter((s) => !s.ok).filter((s) => s.status !== 503 || s.error !== "database_unavailable");
    const slowest = Math.max(0, ...failedWrites.map((s) => s.end - s.start));
    const firstWriteBack = writes.find((s) => s.ok && s.start >= (lastFailed?.end ?? value.faultAt));
    const recoveryMs = firstWriteBack === undefined ? Infinity : firstWriteBack.end - value.faultAt;
    const otherFailures = obs.failedRequests.filter((s) => s.kind !== "write");
    verdict.detail(`primary ${primary.name} → ${value.after} (the same node: its keeper restarted PostgreSQL; another: the monitor failed over)`);
    verdict.detail(`${reads.length} reads (${readsDuringOutage} while writes failed), ${failedReads.length} failed`);
    verdict.detail(`${writes.length} writes, ${failedWrites.length} failed, all within ${seconds(slowest)}; writes back ${seconds(recoveryMs)} after the fault`);
    verdict.require(failedReads.length === 0, `${failedReads.length} read(s) failed`);
    verdict.require(failedWrites.length > 0, "no write failed after the fault: the drill tested nothing");
    verdict.require(unclear.length === 0, `${unclear.length} failed write(s) did not answer 503 database_unavailable (e.g. ${unclear[0]?.status} ${unclear[0]?.error ?? ""})`);
    verdict.require(slowest <= FAIL_FAST_MS, `a failed write took ${seconds(slowest)} (limit ${seconds(FAIL_FAST_MS)})`);
    verdict.require(Number.isFinite(recoveryMs), "no write succeeded after the fault");
    verdict.require(otherFailures.length === 0, `${otherFailures.length} request(s) other than writes failed`);
    verdict.require(degradedSeen, "no instance's /readyz reported the primary as down");
    verdict.require(value.stableAt !== undefined, "the service was not stable within 30 s of the fault");
    return verdict.resultFromLoad(obs, { recoveryMs, degradedSeen });
  },
};
