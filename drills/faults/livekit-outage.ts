/**
 * livekit-outage: take down the LiveKit deployment the drill's rooms are pinned to (connection
 * refused). Token requests go through the load balancer and, to know which instance answered, to
 * each instance directly. An instance "detects" the outage when its /readyz first shows the
 * deployment unhealthy. Pass: no token for the dead deployment issued by an instance after it
 * detected the outage (through the load balancer: after every instance did), no failed request.
 * Recovery: from the outage until the last token for the dead deployment was handed out.
 */
import { lbStreams } from "../load/load";
import { LINGER_MS, sleep, withLoad } from "../load/with-load";
import type { Drill, DrillContext, DrillResult } from "../types";
import { commonChecks, seconds, Verdict } from "../verdict";
import { waitFor } from "../../harness/process";

export const livekitOutage: Drill = {
  name: "livekit-outage",
  description: "take down the LiveKit deployment the rooms are pinned to; pass: no token for it issued after it is detected",
  async run(ctx: DrillContext): Promise<DrillResult> {
    const verdict = new Verdict("livekit-outage");
    const { cluster } = ctx;
    const deployments = cluster.livekit;
    let stopped: (typeof deployments)[number] | undefined;
    const streams = (lb: string) => [
      ...lbStreams(lb),
      ...cluster.instances.map((i) => ({ name: `token@${i.id}`, kind: "token" as const, baseUrl: i.url })),
    ];
    try {
      const { value, obs, load } = await withLoad(ctx, { name: "livekit-outage", streams }, async (load) => {
        const pinned = [...load.http.samples].reverse().find((s) => s.kind === "token" && s.ok)?.deployment;
        const dead = deployments.find((d) => d.name === pinned);
        if (dead === undefined) throw new Error(`no token was issued during the warm-up (pinned deployment: ${String(pinned)})`);
        ctx.progress(`livekit-outage: stopping ${dead.name} (${dead.url}), the deployment the rooms are pinned to`);
        const faultAt = Date.now();
        await dead.stop();
        stopped = dead;
        const detections = new Map<string, number>();
        await waitFor(
          async () => {
            for (const instance of cluster.instances) {
              if (detections.has(instance.id)) continue;
              const at = load.readiness.firstTime(
                instance.id,
                faultAt,
                (s) => s.dependencies?.livekit?.some((d) => d.name === dead.name && !d.healthy) === true,
              );
              if (at !== undefined) detections.set(instance.id, at);
            }
            return detections.size === cluster.instances.length;
          },
          { timeoutMs: 15_000, what: `every instance to report ${dead.name} unhealthy on /readyz` },
        );
        const allDetected = Math.max(...detections.values());
        const stableAt = await load.waitStable({ after: allDetected, timeoutMs: 10_000 });
        await sleep(LINGER_MS);
        return { faultAt, dead: dead.name, detections, allDetected, stableAt };
      });
      commonChecks(verdict, obs, value.faultAt);
      const degradedSeen = load.readiness.degradedSeen(value.faultAt);
      const tokens = obs.samples.filter((s) => s.kind === "token" && s.ok);
      const forDead = tokens.filter((s) => s.deployment === value.dead && s.start >= value.faultAt);
      const violations = forDead.filter((s) => {
        const instance = s.stream.startsWith("token@") ? s.stream.slice("token@".length) : undefined;
        const detectedAt = instance === undefined ? value.allDetected : value.detections.get(instance);
        return detectedAt !== undefined && s.start > detectedAt;
      });
      const lastDead = Math.max(value.faultAt, ...forDead.map((s) => s.end));
      const recoveryMs = lastDead - value.faultAt;
      const afterDetection = tokens.filter((s) => s.start > value.allDetected);
      const detectedIn = [...value.detections].map(([id, at]) => `${id} ${seconds(at - value.faultAt)}`).join(", ");
      verdict.detail(
        `detected by ${detectedIn}; ${forDead.length} token(s) for ${value.dead} handed out after the outage began (last ${seconds(recoveryMs)} after it), ${violations.length} after detection`,
      );
      verdict.detail(
        `${afterDetection.length} tokens after every instance detected it, for ${[...new Set(afterDetection.map((s) => s.deployment))].join(", ") || "nothing"}`,
      );
      verdict.require(
        violations.length === 0,
        `${violations.length} token(s) for the dead deployment ${value.dead} issued after the outage was detected`,
      );
      verdict.require(afterDetection.length > 0, "no token was issued after the outage was detected");
      verdict.require(obs.failedRequests.length === 0, `${obs.failedRequests.length} request(s) failed`);
      verdict.require(degradedSeen, "no instance's /readyz reported the deployment as down");
      verdict.require(value.stableAt !== undefined, "the service was not stable within 10 s of the detection");
      return verdict.resultFromLoad(obs, { recoveryMs, degradedSeen });
    } finally {
      if (stopped !== undefined) {
        ctx.progress(`livekit-outage: starting ${stopped.name} again`);
        await stopped.start();
      }
    }
  },
};
