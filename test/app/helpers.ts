/**
 * Helpers for the app tests: configuration for instances started in-process (startApp) or as child
 * processes (app/src/main.ts under tsx) with the tests' short intervals, and users' JWTs. The client
 * side of the contract is the harness's (re-exported here for the test files).
 */
import path from "node:path";
import { loadServiceConfig, type ServiceConfig } from "../../app/src/config";
import { appEnvironment, FAST_TIMINGS } from "../../harness/app-env";
import type { LivekitStandIn } from "../../harness/livekit-standin";
import { freePort } from "../../harness/ports";
import { spawnManaged, waitForReady, type ManagedProcess } from "../../harness/process";
import { signUserToken, TEST_JWT_SECRET } from "../../harness/tokens";

export * from "../../harness/app-client";
export const JWT_SECRET = TEST_JWT_SECRET;
const REPO_ROOT = path.resolve(__dirname, "../..");

export interface Backends {
  redisUrl: string;
  databaseUrl: string;
  replicaUrls?: string[];
  livekit: LivekitStandIn[];
}

/** Environment for an instance: short intervals so tests observe heartbeats, purges and health changes quickly. */
export function appEnv(backends: Backends, instanceId: string, overrides: Record<string, string> = {}): Record<string, string> {
  return appEnvironment(
    { ...backends, authSecret: JWT_SECRET },
    { id: instanceId, port: 0 },
    { LOG_LEVEL: process.env.GOMEET_TEST_LOG_LEVEL ?? "silent", ...FAST_TIMINGS, ...overrides },
  );
}

export function appConfig(backends: Backends, instanceId: string, overrides: Record<string, string> = {}): ServiceConfig {
  return loadServiceConfig(appEnv(backends, instanceId, overrides));
}

/**
 * An instance as a child process (it can be SIGKILLed: no cleanup runs). Resolves once /healthz answers. `metricsUrl`
 * serves /metrics and the detailed /readyz.
 */
export async function spawnApp(
  backends: Backends,
  instanceId: string,
  overrides: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<{ process: ManagedProcess; url: string; metricsUrl: string }> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const env = appEnv(backends, instanceId, { PORT: String(port), METRICS_PORT: String(metricsPort), ...overrides });
  const args = [...nodeArgs, "--import", "tsx", path.join(REPO_ROOT, "app/src/main.ts")];
  const proc = spawnManaged(`app-${instanceId}`, process.execPath, args, { env, cwd: REPO_ROOT });
  const url = `http://127.0.0.1:${port}`;
  await waitForReady(proc, async () => (await fetch(`${url}/healthz`)).ok, {
    timeoutMs: 20_000,
    what: `app ${instanceId} to answer /healthz`,
  });
  return { process: proc, url, metricsUrl: `http://127.0.0.1:${metricsPort}` };
}

/** A user's token signed with the tests' secret (or `secret`), valid for an hour unless told otherwise. */
export function token(
  sub: string,
  opts: { name?: string; expiresInSeconds?: number; secret?: string; alg?: string } = {},
): Promise<string> {
  return signUserToken(opts.secret ?? JWT_SECRET, sub, { name: opts.name, expiresInSeconds: opts.expiresInSeconds ?? 3600, alg: opts.alg });
}
