/**
 * postgres-replica-loss: SIGKILL the PostgreSQL replica while rooms are being read, keep it down
 * for a few seconds, start it again. Reads move to the primary at once (a read that fails on the
 * replica is retried there). Pass: 0 failed reads (0 failed requests at all), /readyz degraded.
 */
import { waitFor } from "../../harness/process";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";

/** How long the replica stays down. */
export const PG_OUTAGE_MS = 4000;

export const postgresReplicaLoss: Drill = {
  name: "postgres-replica-loss",
  description: "SIGKILL the PostgreSQL replica; pass: 0 failed reads",
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("postgres-replica-loss");
    const { replica } = ctx.cluster.backing.postgres;
    let down = false;
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "postgres-replica-loss" }, async (load) => {
        ctx.progress(`postgres-replica-loss: SIGKILL the replica ${replica.url} (pid ${replica.process.pid}) for ${seconds(PG_OUTAGE_MS)}`);
        const faultAt = Date.now();
        await replica.kill();
        down = true;
        await sleep(PG_OUTAGE_MS);
        const restoredAt = Date.now();
        await replica.start();
        down = false;
        await waitFor(() => ctx.cluster.backing.postgres.replicaStreaming(), { timeoutMs: 15_000, what: "the replica to stream again" });
        const stableAt = await load.waitStable({ after: restoredAt, timeoutMs: 15_000 });
        await sleep(LINGER_MS);
        return { faultAt, restoredAt, stableAt };
      });
      const { overall: outage } = commonChecks(verdict, obs, value.faultAt);
      const degradedSeen = load.readiness.degradedSeen(value.faultAt);
      const reads = obs.samples.filter((s) => s.kind === "read");
      const failedReads = reads.filter((s) => !s.ok).length;
      const duringOutage = reads.filter((s) => s.start >= value.faultAt && s.end <= value.restoredAt).length;
      verdict.detail(
        `${reads.length} room reads from the database, ${duringOutage} of them while the replica was down, ${failedReads} failed`,
      );
      verdict.require(failedReads === 0, `${failedReads} read(s) failed`);
      verdict.require(obs.failedRequests.length === 0, `${obs.failedRequests.length} request(s) failed`);
      verdict.require(duringOutage > 0, "no read ran while the replica was down: the drill tested nothing");
      verdict.require(degradedSeen, "no instance's /readyz reported the replica as down");
      verdict.require(value.stableAt !== undefined, "the service was not stable within 15 s of the replica's restart");
      return verdict.resultFromLoad(obs, { recoveryMs: outage, degradedSeen });
    } finally {
      if (down) await replica.start();
    }
  },
};
