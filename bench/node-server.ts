/**
 * Starting a TypeScript server entry (the app, a Socket.IO node, the raw ws server) as its own
 * managed process on a free loopback port, optionally under the V8 CPU profiler.
 */
import path from "node:path";
import { freePort } from "../harness/ports";
import { spawnManaged, waitForReady, type ManagedProcess } from "../harness/process";
import { prioritise } from "./priority";
import type { ServerProcess } from "./proc-stats";

export const REPO_ROOT = path.resolve(__dirname, "..");
const START_TIMEOUT_MS = 30_000;

export interface NodeServer {
  name: string;
  port: number;
  /** http://127.0.0.1:<port> */
  url: string;
  process: ManagedProcess;
}

export interface NodeServerOptions {
  /** Environment for the server; PORT is added. */
  env: Record<string, string>;
  /** Write .cpuprofile files into <dir>/<name>/ when the server exits (it must exit on SIGTERM). */
  cpuProfileDir?: string;
  /** Nice value for the server and its session (see priority.ts). */
  nice?: number;
}

/** Starts `entry` (relative to the repository root, or absolute) under tsx; resolves once GET /healthz answers 200. */
export async function startNodeServer(name: string, entry: string, options: NodeServerOptions): Promise<NodeServer> {
  const port = await freePort();
  // One directory per server: tsx's loader thread writes a profile too (the main thread's is the big one).
  const profile = options.cpuProfileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", path.join(options.cpuProfileDir, name)];
  const proc = spawnManaged(name, process.execPath, [...profile, "--import", "tsx", path.resolve(REPO_ROOT, entry)], {
    env: { ...options.env, PORT: String(port) },
    cwd: REPO_ROOT,
  });
  if (options.nice !== undefined) prioritise(proc.pid, options.nice);
  const url = `http://127.0.0.1:${port}`;
  await waitForReady(proc, async () => (await fetch(`${url}/healthz`)).ok, {
    timeoutMs: START_TIMEOUT_MS,
    what: `${name} to answer GET /healthz`,
  });
  return { name, port, url, process: proc };
}

export function asServerProcess(server: NodeServer): ServerProcess {
  return { name: server.name, pid: server.process.pid };
}
