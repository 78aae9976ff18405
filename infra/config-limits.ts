/**
 * Rules across stack config keys, and the size and count rules DigitalOcean enforces, checked before anything is
 * created: each problem names the key to change (and the other key it is measured against) and the rule's source.
 */
import { ROLLING_UPDATE_MAX_SURGE } from "./rollout";
import { databaseLimitBreaches, kubernetesNodeSizeBreach } from "./provider-facts/limits";

/** One refused value: the key (`gomeet:...`) and what is wrong with it. */
export interface ConfigProblem {
  key: string;
  detail: string;
}

/** The parts of the config these rules read. */
export interface LimitedConfig {
  kubernetes: { nodeSize: string; maxNodes: number };
  postgres: { size: string; nodeCount: number; replicaSize?: string };
  valkey: { size: string; nodeCount: number };
  app: { maxReplicas: number };
}

const key = (name: string): string => `gomeet:${name}`;

/**
 * One app pod per node (app-manifests.ts), and a rolling update adds ROLLING_UPDATE_MAX_SURGE pods before it removes
 * one (maxUnavailable 0): at the HPA's ceiling the surge pod needs a node of its own, or it stays Pending and the
 * rollout never finishes. So the node pool's ceiling must leave room for it.
 */
function rolloutHeadroom(c: LimitedConfig): ConfigProblem[] {
  const most = c.kubernetes.maxNodes - ROLLING_UPDATE_MAX_SURGE;
  if (c.app.maxReplicas <= most) return [];
  return [
    {
      key: key("app.maxReplicas"),
      detail:
        `got ${c.app.maxReplicas} with ${key("kubernetes.maxNodes")} ${c.kubernetes.maxNodes}; expected at most ${most}: ` +
        `the app runs one pod per node and a rollout adds ${ROLLING_UPDATE_MAX_SURGE} surge pod, so at the ceiling it needs ` +
        `${key("kubernetes.maxNodes")} ≥ ${key("app.maxReplicas")} + ${ROLLING_UPDATE_MAX_SURGE} (raise maxNodes or lower maxReplicas)`,
    },
  ];
}

function databaseProblems(name: "postgres" | "valkey", engine: string, size: string, nodeCount: number): ConfigProblem[] {
  const breaches = databaseLimitBreaches(engine, size, nodeCount);
  const problems: ConfigProblem[] = [];
  if (breaches.nodeCount) {
    problems.push({
      key: key(`${name}.nodeCount`),
      detail: `got ${nodeCount}; DigitalOcean requires ${breaches.nodeCount.required} (source: ${breaches.nodeCount.source})`,
    });
  }
  if (breaches.size) {
    problems.push({
      key: key(`${name}.size`),
      detail:
        `got "${size}" with ${key(`${name}.nodeCount`)} ${nodeCount}; DigitalOcean requires ${breaches.size.required} ` +
        `(source: ${breaches.size.source})`,
    });
  }
  return problems;
}

/** Every problem, in the order of the keys in a stack file. */
export function configProblems(c: LimitedConfig): ConfigProblem[] {
  const node = kubernetesNodeSizeBreach(c.kubernetes.nodeSize);
  return [
    ...(node
      ? [
          {
            key: key("kubernetes.nodeSize"),
            detail: `got "${c.kubernetes.nodeSize}"; DigitalOcean requires ${node.required} (source: ${node.source})`,
          },
        ]
      : []),
    ...databaseProblems("postgres", "pg", c.postgres.size, c.postgres.nodeCount),
    ...databaseProblems("valkey", "valkey", c.valkey.size, c.valkey.nodeCount),
    ...rolloutHeadroom(c),
  ];
}
