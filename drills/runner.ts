/**
 * Runs drills one after the other on one cluster. Each starts from a healthy cluster (waited for)
 * and leaves it whole again; a drill that throws counts as failed, with the error as its problem.
 */
import type { Cluster } from "../harness/cluster/cluster";
import { AlertWatch, ALERT_SETTLE_MS, judgeAlerts, requiredAlerts } from "./alerts";
import { waitClusterHealthy } from "./cluster-health";
import { badInput } from "./faults/bad-input";
import { instanceKill } from "./faults/instance-kill";
import { livekitOutage } from "./faults/livekit-outage";
import { postgresFailover } from "./faults/postgres-failover";
import { postgresPrimaryLoss } from "./faults/postgres-primary-loss";
import { postgresReplicaLoss } from "./faults/postgres-replica-loss";
import { rollingRestart } from "./faults/rolling-restart";
import { valkeyFailover } from "./faults/valkey-failover";
import { valkeyPrimaryHang } from "./faults/valkey-primary-hang";
import { regionLoss } from "./faults/region-loss";
import type { TwoRegionCluster } from "../harness/region/two-regions";
import type { Drill, DrillName, DrillResult, DrillScale } from "./types";

/** Every drill, in the order `npm run drills` runs them. */
export const DRILLS: readonly Drill[] = [
  instanceKill,
  rollingRestart,
  valkeyFailover,
  postgresReplicaLoss,
  postgresPrimaryLoss,
  livekitOutage,
  badInput,
  postgresFailover,
  valkeyPrimaryHang,
  regionLoss,
];

/**
 * A two-region drill: its load goes through the global endpoint, the health checks and readiness watch cover both
 * regions' instances; the alerts are region b's Prometheus's (region a's dies with the region).
 */
export function runRegionDrill(
  two: TwoRegionCluster,
  drill: Drill,
  scale: DrillScale,
  progress: (line: string) => void,
): Promise<DrillResult> {
  const view: Cluster = {
    ...two.primary,
    url: two.url,
    instances: [...two.primary.instances, ...two.standby.instances],
    prometheus: two.standby.prometheus,
  };
  return runDrill(view, drill, scale, progress, two);
}

export function drillByName(name: DrillName): Drill {
  const drill = DRILLS.find((d) => d.name === name);
  if (drill === undefined) throw new Error(`unknown drill "${name}"`);
  return drill;
}

function failed(name: DrillName, problem: string): DrillResult {
  return {
    name,
    recoverySeconds: null,
    lost: 0,
    duplicates: 0,
    failedRequests: 0,
    degradedSeen: false,
    passed: false,
    alerts: [],
    problems: [problem],
    details: [],
  };
}

export async function runDrill(
  cluster: Cluster,
  drill: Drill,
  scale: DrillScale,
  progress: (line: string) => void,
  regions?: TwoRegionCluster,
): Promise<DrillResult> {
  try {
    await waitClusterHealthy(cluster);
  } catch (error) {
    return failed(drill.name, `the cluster was not healthy before the drill: ${(error as Error).message}`);
  }
  const began = Date.now();
  progress(`${drill.name}: ${drill.description}`);
  const alerts = await AlertWatch.start(cluster.prometheus);
  let result: DrillResult;
  let missing: string[] = [];
  try {
    result = await drill.run({ cluster, scale, progress, alerts, regions });
    missing = await alerts.settle(requiredAlerts(drill.name), ALERT_SETTLE_MS);
  } catch (error) {
    result = failed(drill.name, `the drill could not run: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await alerts.stop();
  }
  result.alerts = alerts.firedSince(result.faultAt ?? began);
  judgeAlerts(result, missing, alerts.failedPolls());
  progress(`${drill.name}: alerts ${result.alerts.map((a) => `${a.name} after ${a.firedAfterSeconds.toFixed(2)} s`).join(", ") || "none"}`);
  progress(
    `${drill.name}: ${result.passed ? "PASS" : `FAIL (${result.problems.join("; ")})`} in ${((Date.now() - began) / 1000).toFixed(1)} s`,
  );
  return result;
}

export async function runDrills(
  cluster: Cluster,
  drills: readonly Drill[],
  scale: DrillScale,
  progress: (line: string) => void,
): Promise<DrillResult[]> {
  const results: DrillResult[] = [];
  for (const drill of drills) results.push(await runDrill(cluster, drill, scale, progress));
  return results;
}
