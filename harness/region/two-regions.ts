/**
 * Two regions on loopback (`npm run cluster -- --regions 2`, the region-loss drill):
 *
 *   global endpoint (HAProxy: /readyz checks, region a first, region b as backup, WebSocket tunnels)
 *     ├─ region a, the primary: today's whole local cluster (harness/cluster/cluster.ts)
 *     └─ region b, the standby: a PostgreSQL read-only node streaming from region a's primary endpoint, its own
 *        Valkey, app instances (REGION_ROLE=auto) and nginx (standby-region.ts)
 *   failover controller, automatic, with the local driver (in this process: neither region's)
 *
 * LiveKit stand-ins are shared by both regions (an external service to both; in neither region's process list).
 */
import http from "node:http";
import path from "node:path";
import { Registry } from "prom-client";
import { FailoverController } from "../../app/src/failover/controller";
import { FileJournal } from "../../app/src/failover/journal";
import type { FailoverLog } from "../../app/src/failover/types";
import { compiledAppEntry } from "../cluster/app-build";
import { localInstanceEnv, startCluster, type Cluster, type ClusterOptions } from "../cluster/cluster";
import { freePort } from "../ports";
import { processTree } from "../proc-tree";
import { tempDir } from "../process";
import { startGlobalEndpoint, type GlobalEndpoint } from "./global-endpoint";
import { LocalFailoverDriver } from "./local-driver";
import { restartFencedRegion, type RestartedRegion } from "./region-restart";
import { startStandbyRegion, type StandbyRegion } from "./standby-region";

export const PRIMARY_REGION = "a";
export const STANDBY_REGION = "b";
/** Locally the region is declared lost after 5 s (DigitalOcean: minutes; see docs/local-cluster-and-drills.md). */
export const DEFAULT_FAILOVER_AFTER_SECONDS = 5;
const STANDBY_INSTANCES = 2;
const PROBE_INTERVAL_MS = 500;
const PROBE_TIMEOUT_MS = 500;

export interface TwoRegionOptions extends ClusterOptions {
  /** Seconds every vantage point must see region a down before the controller fails over (default 5). */
  failoverAfterSeconds?: number;
}

export interface TwoRegionCluster {
  /** The global endpoint: what clients use. */
  url: string;
  global: GlobalEndpoint;
  /** Region a: the whole single-region cluster. */
  primary: Cluster;
  /** Region b. */
  standby: StandbyRegion;
  controller: FailoverController;
  /** The controller's metrics (Prometheus text) at <url>/metrics. */
  controllerMetricsUrl: string;
  /** The failover journal (JSON). */
  journalFile: string;
  failoverAfterSeconds: number;
  /** Every process of a region now (each root process and its children). */
  regionPids(region: string): number[];
  /** Starts region a's serving processes again after it was lost and fenced (region-restart.ts). */
  restartPrimaryRegion(): Promise<RestartedRegion>;
  startupMs: { primary: number; standby: number; total: number };
  stop(): Promise<void>;
}

function primaryRootPids(cluster: Cluster): number[] {
  const { redis, postgres } = cluster.backing;
  return [
    ...cluster.instances.filter((i) => i.running).map((i) => i.pid),
    cluster.nginx.process.pid,
    cluster.prometheus.process.pid,
    redis.primary.process.pid,
    redis.replica.process.pid,
    ...redis.sentinels.map((s) => s.process.pid),
    redis.proxy.process.pid,
    postgres.formation.monitor.process.pid,
    ...postgres.formation.nodes.map((n) => n.process.pid),
    postgres.endpoint.process.pid,
    postgres.pool.process.pid,
    postgres.replica.process.pid,
  ];
}

function withChildren(roots: readonly number[]): number[] {
  return [...new Set(roots.flatMap((pid) => processTree(pid).map((p) => p.pid)))].sort((x, y) => x - y);
}

function metricsServer(registry: Registry): Promise<{ url: string; close(): Promise<void> }> {
  return freePort().then(
    (port) =>
      new Promise((resolve, reject) => {
        const server = http.createServer((req, res) => {
          if (req.url !== "/metrics") {
            res.writeHead(404).end();
            return;
          }
          registry.metrics().then(
            (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
            (error: unknown) => res.writeHead(500).end(String(error)),
          );
        });
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () =>
          resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((done) => server.close(() => done())) }),
        );
      }),
  );
}

export async function startTwoRegions(options: TwoRegionOptions = {}): Promise<TwoRegionCluster> {
  const began = Date.now();
  const progress = options.progress ?? (() => undefined);
  const failoverAfterSeconds = options.failoverAfterSeconds ?? DEFAULT_FAILOVER_AFTER_SECONDS;
  if (!(failoverAfterSeconds > 0))
    throw new Error(`--region-failover-after must be a positive number of seconds, got ${failoverAfterSeconds}`);
  const regionEnv = { REGION_ROLE: "auto", REGION_NAME: PRIMARY_REGION };
  progress(`region ${PRIMARY_REGION} (primary): the whole local cluster`);
  const primary = await startCluster({ ...options, appEnv: { ...options.appEnv, ...regionEnv } });
  const primaryMs = Date.now() - began;
  let standby: StandbyRegion | undefined;
  let global: GlobalEndpoint | undefined;
  try {
    progress(
      `region ${STANDBY_REGION} (standby): a read-only PostgreSQL node streaming from region ${PRIMARY_REGION}, Valkey, ${STANDBY_INSTANCES} app instances, nginx`,
    );
    const standbyBegan = Date.now();
    standby = await startStandbyRegion({
      name: STANDBY_REGION,
      primaryEndpoint: primary.backing.postgres.endpoint,
      instances: STANDBY_INSTANCES,
      entry: compiledAppEntry(),
      authSecret: primary.authSecret,
      livekit: primary.livekit,
      appEnv: { ...localInstanceEnv(primary.allowedOrigins), ...options.appEnv },
    });
    const standbyMs = Date.now() - standbyBegan;
    global = await startGlobalEndpoint([
      { name: PRIMARY_REGION, url: primary.url },
      { name: STANDBY_REGION, url: standby.url },
    ]);
    const dir = await tempDir("region-failover");
    const journalFile = path.join(dir, "failover-journal.json");
    const fenced = new Set<string>();
    const driver = new LocalFailoverDriver({
      global,
      authSecret: primary.authSecret,
      regions: [
        {
          name: PRIMARY_REGION,
          url: primary.url,
          databaseUrl: primary.backing.postgres.endpoint.url,
          fenceDatabase: async () => {
            for (const node of primary.backing.postgres.formation.nodes)
              await primary.backing.postgres.endpoint.setServerState(node, "maint");
          },
        },
        { name: STANDBY_REGION, url: standby.url, databaseUrl: standby.postgres.url },
      ],
      onFenced: (region) => void fenced.add(region),
    });
    const registry = new Registry();
    const log: FailoverLog = {
      info: (_fields, message) => progress(`failover: ${message}`),
      warn: (_fields, message) => progress(`failover: ${message}`),
      error: (fields, message) => progress(`failover: ${message} ${JSON.stringify(fields)}`),
    };
    const controller = new FailoverController({
      mode: "automatic",
      from: PRIMARY_REGION,
      to: STANDBY_REGION,
      driver,
      journal: new FileJournal(journalFile),
      detector: { windowMs: failoverAfterSeconds * 1000, intervalMs: PROBE_INTERVAL_MS, probeTimeoutMs: PROBE_TIMEOUT_MS },
      registry,
      log,
      retryMs: 1000,
    });
    const metrics = await metricsServer(registry);
    await controller.start();
    const standbyRegion = standby;
    const globalEndpoint = global;
    let restarted: RestartedRegion | undefined;
    const total = Date.now() - began;
    progress(`two regions ready in ${(total / 1000).toFixed(1)} s (region ${STANDBY_REGION} ${(standbyMs / 1000).toFixed(1)} s)`);
    return {
      url: global.url,
      global,
      primary,
      standby,
      controller,
      controllerMetricsUrl: `${metrics.url}/metrics`,
      journalFile,
      failoverAfterSeconds,
      regionPids: (region) => {
        if (region === PRIMARY_REGION) return withChildren([...primaryRootPids(primary), ...(restarted?.rootPids() ?? [])]);
        if (region === STANDBY_REGION) return withChildren(standbyRegion.rootPids());
        throw new Error(`no region "${region}"`);
      },
      restartPrimaryRegion: async () => {
        if (!fenced.has(PRIMARY_REGION)) throw new Error(`region ${PRIMARY_REGION} is not fenced: restart it only after a failover`);
        restarted = await restartFencedRegion(primary);
        return restarted;
      },
      startupMs: { primary: primaryMs, standby: standbyMs, total },
      stop: async () => {
        await controller.stop();
        await Promise.allSettled([metrics.close(), globalEndpoint.stop(), restarted?.stop()]);
        await Promise.allSettled([standbyRegion.stop(), primary.stop()]);
      },
    };
  } catch (error) {
    await Promise.allSettled([global?.stop(), standby?.stop(), primary.stop()]);
    throw error;
  }
}
