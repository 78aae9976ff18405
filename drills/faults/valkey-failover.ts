/**
 * valkey-failover: SIGKILL the Valkey primary. Sentinel promotes the replica, HAProxy routes the
 * endpoint to it, the instances reconnect and heal their rooms from history. Pass: writes (messages
 * accepted again) back within 5 s, no acknowledged message lost, /readyz showed the outage.
 */
import { waitForReplicaInSync, type RedisNode } from "../../harness/redis";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";

const MAX_RECOVERY_MS = 5000;

export const valkeyFailover: Drill = {
  name: "valkey-failover",
  description: `SIGKILL the Valkey primary; pass: writes back within ${MAX_RECOVERY_MS / 1000} s, no acknowledged message lost`,
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("valkey-failover");
    const { redis } = ctx.cluster.backing;
    const killed: RedisNode[] = [];
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "valkey-failover" }, async (load) => {
        const victim = await redis.nodeInRole("primary");
        const before = { host: victim.host, port: victim.port };
        ctx.progress(`valkey-failover: SIGKILL the primary ${victim.url} (pid ${victim.process.pid})`);
        const faultAt = Date.now();
        await victim.process.kill();
        killed.push(victim);
        const stableAt = await load.waitStable({ after: faultAt, timeoutMs: 20_000 });
        const after = await redis.currentPrimary();
        await sleep(LINGER_MS);
        return { faultAt, stableAt, before: `${before.host}:${before.port}`, after: `${after.host}:${after.port}` };
      });
      const outages = commonChecks(verdict, obs, value.faultAt);
      const degradedSeen = load.readiness.degradedSeen(value.faultAt);
      verdict.detail(`primary ${value.before} → ${value.after}; messages accepted again after ${seconds(outages.websocket)}`);
      verdict.require(value.after !== value.before, `the Sentinels still name ${value.before} as primary`);
      verdict.require(value.stableAt !== undefined, "the service was not stable again within 20 s");
      verdict.require(
        outages.websocket <= MAX_RECOVERY_MS,
        `messages were accepted again only after ${seconds(outages.websocket)} (limit ${seconds(MAX_RECOVERY_MS)})`,
      );
      verdict.require(degradedSeen, "no instance's /readyz reported the Valkey outage");
      return verdict.resultFromLoad(obs, { recoveryMs: outages.overall, degradedSeen });
    } finally {
      for (const node of killed) {
        ctx.progress(`valkey-failover: restarting ${node.url} as a replica of the new primary`);
        await node.restart();
        await waitForReplicaInSync(node);
      }
    }
  },
};
