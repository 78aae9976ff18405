/**
 * Breaking and repairing the running cluster by name, for `npm run cluster`'s command prompt:
 * `kill app-2`, `kill pg-primary`, `stop pg-replica`, `pause valkey-primary`, `start valkey-primary`, `status`.
 * Pieces come back at their old ports, so whatever points at them (nginx, HAProxy, the app's
 * configuration) finds them again. `pause` freezes a process and everything it forked (SIGSTOP:
 * a hung node that still holds its connections); `resume` thaws it.
 */
import { processTree, signalAll } from "../proc-tree";
import type { FormationNode } from "../pg-formation";
import type { ManagedProcess } from "../process";
import { waitForReplicaInSync, type RedisNode } from "../redis";
import type { Cluster } from "./cluster";

export const VERBS = ["kill", "stop", "start", "pause", "resume"] as const;
export type Verb = (typeof VERBS)[number];

export interface Piece {
  describe(): Promise<string>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves with what was started, when that is not what describe() would say. */
  start(): Promise<string | void>;
  /** The process that pause/resume signal; undefined for pieces that are not processes of their own. */
  process(): Promise<ManagedProcess | undefined>;
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

async function processState(proc: ManagedProcess): Promise<string> {
  return (await hasExited(proc)) ? "down" : `running (pid ${proc.pid})`;
}

/** The pieces of the cluster by name: app-N, valkey-primary / valkey-replica, pg-primary / pg-standby (current roles), pg-replica, LiveKit names. */
export function clusterPieces(cluster: Cluster): Map<string, Piece> {
  const { redis, postgres } = cluster.backing;
  const pieces = new Map<string, Piece>();

  for (const instance of cluster.instances) {
    pieces.set(instance.id, {
      describe: async () => `${instance.url} ${instance.running ? `running (pid ${instance.pid})` : "down"}`,
      kill: () => instance.kill(),
      stop: async () => void (await instance.stop()),
      start: () => instance.start(),
      process: async () => (instance.running ? instance.process : undefined),
    });
  }

  const valkeyNode = (role: "primary" | "replica"): Promise<RedisNode> =>
    redis.nodeInRole(role).catch((error: unknown) => {
      throw new ControlError(error instanceof Error ? error.message : String(error));
    });
  for (const role of ["primary", "replica"] as const) {
    // The role is looked up when the command runs: after a failover the old replica is the primary.
    let last: RedisNode | undefined;
    pieces.set(`valkey-${role}`, {
      describe: async () => {
        const node = await valkeyNode(role).catch(() => undefined);
        return node === undefined ? "unknown (no Sentinel answers)" : `${node.url} ${await processState(node.process)}`;
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
        // A node that is down has no role: start the one this name stopped last, else any that is down.
        let node = last;
        for (const candidate of [redis.primary, redis.replica])
          if (node === undefined && (await hasExited(candidate.process))) node = candidate;
        if (node === undefined) throw new ControlError(`valkey-${role}: nothing to start (both nodes are running)`);
        await node.restart();
        await waitForReplicaInSync(node);
        last = undefined;
        return `${node.url} running (pid ${node.process.pid}) as a replica of the current primary`;
      },
      process: async () => (await valkeyNode(role)).process,
    });
  }

  const pgNodes = postgres.formation.nodes;
  const pgNode = async (role: "primary" | "standby"): Promise<FormationNode> => {
    const primary = await postgres.currentPrimary();
    if (primary === undefined) throw new ControlError("the pg_auto_failover monitor names no primary right now (a failover is under way?)");
    return role === "primary" ? primary : (pgNodes.find((n) => n !== primary) as FormationNode);
  };
  for (const role of ["primary", "standby"] as const) {
    // The role is looked up when the command runs: after a failover the old standby is the primary.
    let last: FormationNode | undefined;
    pieces.set(`pg-${role}`, {
      describe: async () => {
        const node = await pgNode(role).catch(() => undefined);
        return node === undefined ? "unknown (no primary per the monitor)" : `${node.name} ${node.url} ${await processState(node.process)}`;
      },
      kill: async () => {
        last = await pgNode(role);
        await last.kill();
      },
      stop: async () => {
        last = await pgNode(role);
        await last.stop();
      },
      start: async () => {
        // A node that is down has no role: start the one this name stopped last, else any that is down.
        let node = last;
        for (const candidate of pgNodes) if (node === undefined && (await hasExited(candidate.process))) node = candidate;
        if (node === undefined) throw new ControlError(`pg-${role}: nothing to start (both nodes are running)`);
        await node.start();
        last = undefined;
        return `${node.name} ${node.url} running (pid ${node.process.pid}), rejoined the formation`;
      },
      process: async () => (await pgNode(role)).process,
    });
  }
  const { replica } = postgres;
  pieces.set("pg-replica", {
    describe: async () => `${replica.url} ${await processState(replica.process)}`,
    kill: () => replica.kill(),
    stop: () => replica.stop(),
    start: async () => {
      if (!(await hasExited(replica.process))) throw new ControlError("pg-replica is already running");
      await replica.start();
    },
    process: async () => replica.process,
  });

  for (const deployment of cluster.livekit) {
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
      process: async () => deployment.process,
    });
  }
  return pieces;
}

async function signalPiece(name: string, piece: Piece, signal: "SIGSTOP" | "SIGCONT"): Promise<void> {
  const proc = await piece.process();
  if (proc === undefined || (await hasExited(proc))) throw new ControlError(`${name} is not running`);
  signalAll(processTree(proc.pid), signal);
}

/** Runs one prompt line; returns what to print. Unknown commands and pieces get a ControlError listing what exists. */
export async function runControlCommand(pieces: Map<string, Piece>, line: string): Promise<string> {
  const [verb, name, ...rest] = line.trim().split(/\s+/);
  const usage = `commands: status | ${VERBS.join("|")} <piece>; pieces: ${[...pieces.keys()].join(", ")}`;
  if (verb === undefined || verb === "") return "";
  if (verb === "help") return usage;
  if (verb === "status") {
    const rows = await Promise.all([...pieces].map(async ([n, piece]) => `  ${n.padEnd(15)} ${await piece.describe()}`));
    return rows.join("\n");
  }
  if (!(VERBS as readonly string[]).includes(verb)) throw new ControlError(`unknown command "${verb}"; ${usage}`);
  if (name === undefined || rest.length > 0) throw new ControlError(`"${verb}" takes exactly one piece; ${usage}`);
  const piece = pieces.get(name);
  if (piece === undefined) throw new ControlError(`unknown piece "${name}"; ${usage}`);
  const began = Date.now();
  let outcome: string | void = undefined;
  if (verb === "pause" || verb === "resume") await signalPiece(name, piece, verb === "pause" ? "SIGSTOP" : "SIGCONT");
  else outcome = await piece[verb as "kill" | "stop" | "start"]();
  const state = verb === "pause" ? "paused (SIGSTOP; resume with SIGCONT)" : (outcome ?? (await piece.describe()));
  return `${name}: ${verb} done in ${((Date.now() - began) / 1000).toFixed(1)} s; now ${state}`;
}
