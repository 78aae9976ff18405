/**
 * valkey-primary-hang: SIGSTOP the Valkey primary (a hung node that keeps its sockets open, not a dead
 * one) until the Sentinels have promoted the replica and the service is stable again, then SIGCONT it.
 * The thawed node still believes it is the primary until a Sentinel turns it into a replica of the new
 * one; anything it accepted meanwhile would be thrown away by that resync. Pass: like valkey-failover
 * (writes back within 5 s, no acknowledged message lost, no duplicate, /readyz showed the outage), and
 * after the thaw the old primary rejoins as an in-sync replica with still nothing lost, the endpoint never routes
 * to it while it still claims to be primary, and no request fails after the thaw (judgeThaw).
 */
import { processTree, signalAll } from "../../harness/proc-tree";
import { waitFor } from "../../harness/process";
import { redisInfo, waitForReplicaInSync, type RedisNode } from "../../harness/redis";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";

const MAX_RECOVERY_MS = 5000;

/** What happened after SIGCONT, as the drill measured it. */
export interface ThawFigures {
  /** The old primary, host:port. */
  before: string;
  /** The Valkey endpoint (HAProxy) marked the thawed old primary UP while it was not yet a replica of the new one. */
  routedAfterThaw: boolean;
  /** Requests of the load that failed after the thaw. */
  failedAfterThaw: number;
}

/** The thaw's part of the verdict: routing to the thawed node, or any failure after the thaw, fails the drill. */
export function judgeThaw(verdict: Verdict, thaw: ThawFigures): void {
  verdict.require(
    !thaw.routedAfterThaw,
    `the endpoint routed to the thawed old primary ${thaw.before} before it rejoined as a replica: writes it took would be lost in its resync`,
  );
  verdict.require(thaw.failedAfterThaw === 0, `${thaw.failedAfterThaw} request(s) failed after the thaw`);
}

export const valkeyPrimaryHang: Drill = {
  name: "valkey-primary-hang",
  description: `SIGSTOP the Valkey primary until Sentinel fails over, then SIGCONT; pass: writes back within ${MAX_RECOVERY_MS / 1000} s, nothing lost, the old primary rejoins as a replica`,
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("valkey-primary-hang");
    const { redis } = ctx.cluster.backing;
    let frozen: RedisNode | undefined;
    const thaw = (node: RedisNode): void => void signalAll(processTree(node.process.pid), "SIGCONT");
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "valkey-primary-hang" }, async (load) => {
        const victim = await redis.nodeInRole("primary");
        const before = { host: victim.host, port: victim.port };
        ctx.progress(`valkey-primary-hang: SIGSTOP the primary ${victim.url} (pid ${victim.process.pid})`);
        const faultAt = Date.now();
        signalAll(processTree(victim.process.pid), "SIGSTOP");
        frozen = victim;
        let promotedAt = 0;
        await waitFor(
          async () => {
            const now = await redis.currentPrimary();
            if (now.port === before.port) return false;
            promotedAt = Date.now();
            return true;
          },
          { timeoutMs: 20_000, intervalMs: 100, what: "the Sentinels to promote the replica" },
        );
        const stableAt = await load.waitStable({ after: faultAt, timeoutMs: 20_000 });
        const after = await redis.currentPrimary();
        ctx.progress(
          `valkey-primary-hang: ${after.host}:${after.port} promoted after ${seconds(promotedAt - faultAt)}; SIGCONT ${victim.url}`,
        );
        const thawAt = Date.now();
        thaw(victim);
        frozen = undefined;
        // Watch what the thawed node says it is, and whether the endpoint routes to it, until it is a replica in sync.
        let claimedPrimaryMs = 0;
        let routedAfterThaw = false;
        await waitFor(
          async () => {
            const [info, status] = await Promise.all([redisInfo(victim, "replication", 500), redis.proxy.serverStatus()]);
            if (status[`${victim.host}:${victim.port}`]?.status === "UP") routedAfterThaw = true;
            if (info.role === "master") claimedPrimaryMs = Date.now() - thawAt;
            return info.role === "slave" && info.master_link_status === "up" && Number(info.master_port) === after.port;
          },
          { timeoutMs: 20_000, intervalMs: 50, what: `${victim.url} to rejoin as a replica of ${after.host}:${after.port}` },
        );
        await waitForReplicaInSync(victim);
        const rejoinedMs = Date.now() - thawAt;
        const stableAfterThaw = await load.waitStable({ after: thawAt, timeoutMs: 20_000 });
        await sleep(LINGER_MS);
        return {
          faultAt,
          promotedAt,
          thawAt,
          stableAt,
          stableAfterThaw,
          rejoinedMs,
          claimedPrimaryMs,
          routedAfterThaw,
          before: `${before.host}:${before.port}`,
          after: `${after.host}:${after.port}`,
        };
      });
      const outages = commonChecks(verdict, obs, value.faultAt);
      const degradedSeen = load.readiness.degradedSeen(value.faultAt);
      verdict.detail(
        `primary ${value.before} → ${value.after} after ${seconds(value.promotedAt - value.faultAt)}; messages accepted again after ${seconds(outages.websocket)}`,
      );
      verdict.detail(
        `after SIGCONT the old primary said role:master for ${seconds(value.claimedPrimaryMs)}, the endpoint ${value.routedAfterThaw ? "DID" : "did not"} ` +
          `route to it, and it was an in-sync replica after ${seconds(value.rejoinedMs)}`,
      );
      verdict.require(value.after !== value.before, `the Sentinels still name ${value.before} as primary`);
      verdict.require(value.stableAt !== undefined, "the service was not stable again within 20 s of the hang");
      verdict.require(value.stableAfterThaw !== undefined, "the service was not stable within 20 s of the thaw");
      verdict.require(
        outages.websocket <= MAX_RECOVERY_MS,
        `messages were accepted again only after ${seconds(outages.websocket)} (limit ${seconds(MAX_RECOVERY_MS)})`,
      );
      const failedAfterThaw = obs.failedRequests.filter((s) => s.end >= value.thawAt).length;
      verdict.detail(`${failedAfterThaw} request(s) failed after the thaw`);
      judgeThaw(verdict, { before: value.before, routedAfterThaw: value.routedAfterThaw, failedAfterThaw });
      verdict.require(degradedSeen, "no instance's /readyz reported the Valkey outage");
      const result = verdict.resultFromLoad(obs, { recoveryMs: outages.overall, degradedSeen });
      result.figures = {
        promotionSeconds: Math.round((value.promotedAt - value.faultAt) / 10) / 100,
        oldPrimaryClaimedPrimarySeconds: Math.round(value.claimedPrimaryMs / 10) / 100,
        oldPrimaryRoutedAfterThaw: value.routedAfterThaw,
        rejoinSeconds: Math.round(value.rejoinedMs / 10) / 100,
        failedRequestsAfterThaw: failedAfterThaw,
      };
      return result;
    } finally {
      if (frozen !== undefined) thaw(frozen);
    }
  },
};
