/**
 * instance-kill: SIGKILL the app instance holding the most drill clients. Its clients reconnect
 * through nginx to the others and resume with since=. Pass: recovery ≤ 2 s, nothing lost, and the
 * local Prometheus fires GoMeetInstanceDown within 90 s (the instance stays down until it does).
 */
import type { AppInstance } from "../../harness/cluster/app-instance";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";

const MAX_RECOVERY_MS = 2000;
/** The alert a dead instance must raise, and how soon (locally, with the scaled `for:`). */
export const INSTANCE_DOWN_ALERT = "GoMeetInstanceDown";
const MAX_ALERT_MS = 90_000;

export const instanceKill: Drill = {
  name: "instance-kill",
  description: `SIGKILL one app instance; pass: recovery ≤ ${MAX_RECOVERY_MS / 1000} s, 0 lost, ${INSTANCE_DOWN_ALERT} within ${MAX_ALERT_MS / 1000} s`,
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("instance-kill");
    let victim: AppInstance | undefined;
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "instance-kill" }, async (load) => {
        const instances = ctx.cluster.instances;
        victim = instances.reduce(
          (best, i) => (load.clientsOn(i.id).length > load.clientsOn(best.id).length ? i : best),
          instances[0] as AppInstance,
        );
        const affected = load.clientsOn(victim.id).length;
        ctx.progress(`instance-kill: SIGKILL ${victim.id} (pid ${victim.pid}), which holds ${affected} of ${load.clients.length} clients`);
        const faultAt = Date.now();
        await victim.kill();
        const stableAt = await load.waitStable({ after: faultAt, timeoutMs: 15_000 });
        await sleep(LINGER_MS);
        const alertAt = await ctx.alerts.waitFiring(INSTANCE_DOWN_ALERT, MAX_ALERT_MS - (Date.now() - faultAt));
        return { faultAt, stableAt, affected, victimId: victim.id, alertAt };
      });
      const { overall: outage } = commonChecks(verdict, obs, value.faultAt);
      const moved = load.clients.filter((c) => c.instances.includes(value.victimId) && c.instance !== value.victimId).length;
      verdict.detail(`${value.affected} clients were on ${value.victimId}; ${moved} reconnected to another instance`);
      verdict.require(value.affected > 0, `no drill client was on ${value.victimId}: the kill tested nothing`);
      verdict.require(value.stableAt !== undefined, "the service was not stable again within 15 s");
      verdict.require(outage <= MAX_RECOVERY_MS, `recovery took ${seconds(outage)} (limit ${seconds(MAX_RECOVERY_MS)})`);
      verdict.require(value.alertAt !== undefined, `${INSTANCE_DOWN_ALERT} did not fire within ${MAX_ALERT_MS / 1000} s of the kill`);
      if (value.alertAt !== undefined)
        verdict.detail(`${INSTANCE_DOWN_ALERT} fired ${seconds(value.alertAt - value.faultAt)} after the kill`);
      return verdict.resultFromLoad(obs, { recoveryMs: outage, degradedSeen: load.readiness.degradedSeen(value.faultAt) });
    } finally {
      const killed = victim;
      if (killed !== undefined && !killed.running) {
        ctx.progress(`instance-kill: starting ${killed.id} again`);
        await killed.start();
      }
    }
  },
};
