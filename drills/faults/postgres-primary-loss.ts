/**
 * postgres-primary-loss: the PostgreSQL primary is lost to the apps for a few seconds — HAProxy takes
 * it out of the endpoint and cuts its sessions (a network cut between the apps and the primary, too
 * short for the failure detector, which still reaches it) — then it is back. Reads continue from the
 * read-only replica; room creation fails fast with 503 database_unavailable and succeeds again once
 * the primary is back. Recovery is measured from the restore (the outage before it is the drill's
 * choice). Pass: 0 failed reads, every failed write a fast 503 database_unavailable, writes succeed
 * again, /readyz degraded. (A crash of the primary's server alone is absorbed: its keeper restarts it
 * in well under a second and the pool's waiting queries go through; a whole node lost is the
 * postgres-failover drill.)
 */
import { waitFor } from "../../harness/process";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";
import { PG_OUTAGE_MS } from "./postgres-replica-loss";

/** A failed write must answer within this long ("fail fast"): the app's DB_CONNECT_TIMEOUT_MS default is 2 s. */
const FAIL_FAST_MS = 2500;

export const postgresPrimaryLoss: Drill = {
  name: "postgres-primary-loss",
  description:
    "the PostgreSQL primary unreachable for 4 s, then back; pass: reads continue, writes fail fast with 503 and succeed once it is back",
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("postgres-primary-loss");
    const { postgres } = ctx.cluster.backing;
    const primary = await postgres.currentPrimary();
    if (primary === undefined) throw new Error("the pg_auto_failover monitor names no primary");
    let cut = false;
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "postgres-primary-loss" }, async (load) => {
        ctx.progress(`postgres-primary-loss: ${primary.name} ${primary.url} out of the endpoint for ${seconds(PG_OUTAGE_MS)}`);
        const faultAt = Date.now();
        await postgres.endpoint.setServerState(primary, "maint");
        cut = true;
        await sleep(PG_OUTAGE_MS);
        const restoredAt = Date.now();
        await postgres.endpoint.setServerState(primary, "ready");
        cut = false;
        const stableAt = await load.waitStable({ after: restoredAt, timeoutMs: 15_000 });
        await waitFor(() => postgres.replicaStreaming(), { timeoutMs: 15_000, what: "the read-only replica to stream again" });
        await sleep(LINGER_MS);
        return { faultAt, restoredAt, stableAt };
      });
      commonChecks(verdict, obs, value.faultAt);
      const degradedSeen = load.readiness.degradedSeen(value.faultAt);
      const reads = obs.samples.filter((s) => s.kind === "read");
      const failedReads = reads.filter((s) => !s.ok);
      const readsDuringOutage = reads.filter((s) => s.start >= value.faultAt && s.end <= value.restoredAt).length;
      const writes = obs.samples.filter((s) => s.kind === "write");
      const failedWrites = writes.filter((s) => !s.ok);
      const unclear = failedWrites.filter((s) => s.status !== 503 || s.error !== "database_unavailable");
      const slowest = Math.max(0, ...failedWrites.map((s) => s.end - s.start));
      const firstWriteBack = writes.find((s) => s.ok && s.start >= value.restoredAt);
      const recoveryMs = firstWriteBack === undefined ? Infinity : firstWriteBack.end - value.restoredAt;
      const otherFailures = obs.failedRequests.filter((s) => s.kind !== "write");
      verdict.detail(`${reads.length} reads (${readsDuringOutage} while the primary was unreachable), ${failedReads.length} failed`);
      verdict.detail(
        `${writes.length} writes, ${failedWrites.length} failed, all within ${seconds(slowest)}; first write after the restore succeeded ${seconds(recoveryMs)} after it`,
      );
      verdict.require(failedReads.length === 0, `${failedReads.length} read(s) failed`);
      verdict.require(readsDuringOutage > 0, "no read ran while the primary was unreachable: the drill tested nothing");
      verdict.require(failedWrites.length > 0, "no write failed while the primary was unreachable: the drill tested nothing");
      verdict.require(
        unclear.length === 0,
        `${unclear.length} failed write(s) did not answer 503 database_unavailable (e.g. ${unclear[0]?.status} ${unclear[0]?.error ?? ""})`,
      );
      verdict.require(slowest <= FAIL_FAST_MS, `a failed write took ${seconds(slowest)} (limit ${seconds(FAIL_FAST_MS)})`);
      verdict.require(Number.isFinite(recoveryMs), "no write succeeded after the primary was back");
      verdict.require(otherFailures.length === 0, `${otherFailures.length} request(s) other than writes failed`);
      verdict.require(degradedSeen, "no instance's /readyz reported the primary as down");
      verdict.require(value.stableAt !== undefined, "the service was not stable within 15 s of the restore");
      return verdict.resultFromLoad(obs, { recoveryMs, degradedSeen });
    } finally {
      if (cut) await postgres.endpoint.setServerState(primary, "ready");
    }
  },
};
