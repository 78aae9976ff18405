/**
 * Breaking and repairing the running cluster by name, for `npm run cluster`'s command prompt:
 * `kill app-2`, `stop pg-replica`, `start valkey-primary`, `status`. The pieces keep their ports,
 * so whatever points at them (nginx, HAProxy, the app's configuration) finds them again.
 */
import { waitForReplicaInSync } from "../../test/support/redis";
import type { RedisNode } from "../../test/support/redis";
import type { Cluster } from "./cluster";

export type Action = "kill" | "stop" | "start";

interface Piece {
  describe(): Promise<string>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export class ControlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ControlError";
  }
}

/** Whether a managed process has exited (its exit event has been seen by the next event-loop turn). */
function hasExited(proc: { exited: Promise<unknown> }): Promise<boolean> {
  return Promise.race([proc.exited.then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
}

/** The pieces of the cluster by name: app-N, valkey-primary / valkey-replica (current roles), pg-primary, pg-replica, LiveKit names. */
export function clusterPieces(cluster: Cluster): Map<string, Piece> {
  const { redis, postgres } = cluster.backing;
  const { livekit } = cluster;
  const pieces = new Map<string, Piece>();
  const state = async (proc: { pid: number; exited: Promise<unknown> }): Promise<string> => ((await hasExited(proc)) ? "down" : `running (pid ${proc.pid})`);

  for (const instance of cluster.instances) {
    pieces.set(instance.id, {
      describe: async () => `${instance.url} ${instance.running ? `running (pid ${instance.pid})` : "down"}`,
      kill: () => instance.kill(),
      stop: async () => void (await instance.stop()),
      start: () => instance.start(),
    });
  }
  const valkeyNode = async (role: "primary" | "replica"): Promise<RedisNode> => {
    const primary = await redis.currentPrimary();
    const isPrimary = (node: RedisNode): boolean => node.port === primary.port;
    const node = [redis.primary, redis.replica].find((n) => isPrimary(n) === (role === "primary"));
    if (node === undefined) throw new ControlError(`no Valkey node is the ${role} right now`);
    return node;
  };
  for (const role of ["primary", "replica"] as const) {
    // The role is looked up when the command runs: after a failover the replica is the primary.
    let last: RedisNode | undefined;
    pieces.set(`valkey-${role}`, {
      describe: async () => {
        const node = await valkeyNode(role).catch(() => undefined);
        return node === undefined ? "unknown (no Sentinel answers)" : `${node.url} ${await state(node.process)}`;
      },
      kill: async () => {
        last = await valkeyNode(role);
        await last.process.kill();
      },
      stop: async () => {
        last = await valkeyNode(role);
        await last.process.stop();
      },
      start: async () => {
        // A node that is down cannot be found by role; start the one this name stopped last, else any that is down.
        let node = last;
        for (const candidate of [redis.primary, redis.replica]) if (node === undefined && (await hasExited(candidate.process))) node = candidate;
        if (node === undefined) throw new ControlError(`valkey-${role}: nothing to start (both nodes are running)`);
        await node.restart();
        await waitForReplicaInSync(node);
        last = undefined;
      },
    });
  }
  for (const [name, node] of [["pg-primary", postgres.primary], ["pg-replica", postgres.replica]] as const) {
    pieces.set(name, {
      describe: async () => `${node.url} ${await state(node.process)}`,
      kill: () => node.kill(),
      stop: () => node.stop(),
      start: async () => {
        if (!(await hasExited(node.process))) throw new ControlError(`${name} is already running`);
        await node.start();
      },
    });
  }
  for (const deployment of livekit) {
    let up = true;
    const stop = async (): Promise<void> => {
      await deployment.stop();
      up = false;
    };
    pieces.set(deployment.name, {
      describe: async () => `${deployment.url} ${up ? `up (pid ${deployment.process.pid})` : "down (connections refused)"}`,
      kill: stop,
      stop,
      start: async () => {
        await deployment.start();
        up = true;
      },
    });
  }
  return pieces;
}

/** Runs one prompt line; returns what to print. Unknown commands and pieces get a ControlError listing what exists. */
export async function runControlCommand(pieces: Map<string, Piece>, line: string): Promise<string> {
  const [verb, name, ...rest] = line.trim().split(/\s+/);
  const usage = `commands: status | kill <piece> | stop <piece> | start <piece>; pieces: ${[...pieces.keys()].join(", ")}`;
  if (verb === undefined || verb === "") return "";
  if (verb === "help") return usage;
  if (verb === "status") {
    const rows = await Promise.all([...pieces].map(async ([n, piece]) => `  ${n.padEnd(15)} ${await piece.describe()}`));
    return rows.join("\n");
  }
  if (verb !== "kill" && verb !== "stop" && verb !== "start") throw new ControlError(`unknown command "${verb}"; ${usage}`);
  if (name === undefined || rest.length > 0) throw new ControlError(`"${verb}" takes exactly one piece; ${usage}`);
  const piece = pieces.get(name);
  if (piece === undefined) throw new ControlError(`unknown piece "${name}"; ${usage}`);
  const began = Date.now();
  await piece[verb]();
  return `${name}: ${verb} done in ${((Date.now() - began) / 1000).toFixed(1)} s; now ${await piece.describe()}`;
}
