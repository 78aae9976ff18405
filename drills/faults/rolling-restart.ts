/**
 * rolling-restart: SIGTERM each instance in turn (it drains: /readyz 503, new WebSockets refused,
 * open ones closed with 1012) and start it again once it has exited, waiting for it to be healthy
 * before the next. Pass: 0 failed requests, 0 lost, every instance exits 0.
 */
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";

export const rollingRestart: Drill = {
  name: "rolling-restart",
  description: "SIGTERM and restart each instance in turn; pass: 0 failed requests, 0 lost",
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("rolling-restart");
    const { instances } = ctx.cluster;
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "rolling-restart" }, async (load) => {
        const faultAt = Date.now();
        const steps: string[] = [];
        for (const instance of instances) {
          const began = Date.now();
          const clients = load.clientsOn(instance.id).length;
          ctx.progress(`rolling-restart: SIGTERM ${instance.id} (pid ${instance.pid}, ${clients} clients)`);
          const code = await instance.stop();
          const stoppedAt = Date.now();
          await instance.start();
          steps.push(
            `${instance.id}: exit ${String(code)} after ${seconds(stoppedAt - began)}, healthy again after ${seconds(Date.now() - stoppedAt)}`,
          );
          verdict.require(
            code === 0,
            `${instance.id} exited with ${code === null ? "a signal (not a graceful shutdown)" : `code ${code}`} on SIGTERM`,
          );
        }
        const stableAt = await load.waitStable({ after: Date.now(), timeoutMs: 15_000 });
        await sleep(LINGER_MS);
        return { faultAt, stableAt, steps };
      });
      const { overall: outage } = commonChecks(verdict, obs, value.faultAt);
      for (const step of value.steps) verdict.detail(step);
      verdict.require(value.stableAt !== undefined, "the service was not stable again within 15 s of the last restart");
      verdict.require(obs.failedRequests.length === 0, `${obs.failedRequests.length} HTTP request(s) failed`);
      return verdict.resultFromLoad(obs, { recoveryMs: outage, degradedSeen: load.readiness.degradedSeen(value.faultAt) });
    } finally {
      for (const instance of instances) if (!instance.running) await instance.start();
    }
  },
};
