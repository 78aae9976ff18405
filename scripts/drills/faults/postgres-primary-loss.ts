/**
 * postgres-primary-loss: SIGKILL the PostgreSQL primary for a few seconds, then start it again.
 * Reads continue from the replica; room creation fails fast with 503 database_unavailable and
 * succeeds again once the primary is back. Recovery is measured from the primary's restart (the
 * outage before it is the drill's choice). Pass: 0 failed reads, every failed write a fast 503
 * database_unavailable, writes succeed again, /readyz degraded.
 */
import { streamingReplicas } from "../../../harness/postgres";
import { waitFor } from "../../../harness/process";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";
import { PG_OUTAGE_MS } from "./postgres-replica-loss";

/** A failed write must answer within this long ("fail fast"): the app's DB_CONNECT_TIMEOUT_MS default is 2 s. */
const FAIL_FAST_MS = 2500;

export const postgresPrimaryLoss: Drill = {
  name: "postgres-primary-loss",
  description: "SIGKILL the PostgreSQL primary, restart it; pass: reads continue, writes fail fast with 503 and succeed once it is back",
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("postgres-primary-loss");
    const { primary } = ctx.cluster.backing.postgres;
    let down = false;
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "postgres-primary-loss" }, async (load) => {
        ctx.progress(`postgres-primary-loss: SIGKILL the primary ${primary.url} (pid ${primary.process.pid}) for ${seconds(PG_OUTAGE_MS)}`);
        const faultAt = Date.now();
        await primary.kill();
        down = true;
        await sleep(PG_OUTAGE_MS);
        const restoredAt = Date.now();
        await primary.start();
        down = false;
        ctx.progress(`postgres-primary-loss: primary restarted in ${seconds(Date.now() - restoredAt)}`);
        const stableAt = await load.waitStable({ after: restoredAt, timeoutMs: 15_000 });
        await waitFor(async () => (await streamingReplicas(primary)).length > 0, { timeoutMs: 15_000, what: "the replica to stream again" });
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
      verdict.detail(`${reads.length} reads (${readsDuringOutage} while the primary was down), ${failedReads.length} failed`);
      verdict.detail(`${writes.length} writes, ${failedWrites.length} failed, all within ${seconds(slowest)}; first write after the restart succeeded ${seconds(recoveryMs)} after it`);
      verdict.require(failedReads.length === 0, `${failedReads.length} read(s) failed`);
      verdict.require(readsDuringOutage > 0, "no read ran while the primary was down: the drill tested nothing");
      verdict.require(failedWrites.length > 0, "no write failed while the primary was down: the drill tested nothing");
      verdict.require(unclear.length === 0, `${unclear.length} failed write(s) did not answer 503 database_unavailable (e.g. ${unclear[0]?.status} ${unclear[0]?.error ?? ""})`);
      verdict.require(slowest <= FAIL_FAST_MS, `a failed write took ${seconds(slowest)} (limit ${seconds(FAIL_FAST_MS)})`);
      verdict.require(Number.isFinite(recoveryMs), "no write succeeded after the primary was back");
      verdict.require(otherFailures.length === 0, `${otherFailures.length} request(s) other than writes failed`);
      verdict.require(degradedSeen, "no instance's /readyz reported the primary as down");
      verdict.require(value.stableAt !== undefined, "the service was not stable within 15 s of the primary's restart");
      return verdict.resultFromLoad(obs, { recoveryMs, degradedSeen });
    } finally {
      if (down) await primary.start();
    }
  },
};
