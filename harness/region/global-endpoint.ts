/**
 * HAProxy as the global endpoint in front of the regional load balancers: the local stand-in for DigitalOcean's Global
 * Load Balancer. HTTP mode; each region's load balancer is health-checked on `GET /readyz` (200 = serving) every
 * 500 ms, down after 2 failed checks, up after 2 good ones; region priorities are HAProxy's backup servers (the first
 * region takes all traffic while it is up, the next ones only when it is not); WebSocket upgrades pass through
 * (`timeout tunnel` 1 h). Every answer carries `x-gomeet-region: <region>` (who served it).
 *
 * Fencing: fence(region) takes a region out for good, at run time (maintenance + its sessions cut, through the admin
 * socket) and in the configuration file (`disabled`), so a restarted endpoint keeps it out too.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { findBinary } from "../binaries";
import { adminCommand, parseServerStatus, type ServerStatus } from "../haproxy";
import { freePort } from "../ports";
import { spawnManaged, tempDir, waitForReady, type ManagedProcess } from "../process";

const LOOPBACK = "127.0.0.1";
const BACKEND = "regions";
const NAME = /^[a-z][a-z0-9-]{0,30}$/;

export interface RegionTarget {
  /** The region's name (HAProxy server name too). */
  name: string;
  /** The regional load balancer, http://127.0.0.1:<port>. */
  url: string;
}

export interface GlobalEndpoint {
  url: string;
  port: number;
  process: ManagedProcess;
  /** The health-check view of each region (keyed by region name). */
  serverStatus(): Promise<Record<string, ServerStatus>>;
  /** Takes `region` out for good: maintenance, sessions cut, `disabled` in the configuration. Idempotent. */
  fence(region: string): Promise<void>;
  /** Regions fenced so far. */
  fenced(): readonly string[];
  /** Puts `region` in rotation (ready) as the only unfenced target it should take; refuses a fenced region. Idempotent. */
  enable(region: string): Promise<void>;
  stop(): Promise<void>;
}

/** The configuration: regions in priority order (the first is the primary, the others backups), fenced ones disabled. */
export function globalEndpointConfig(
  port: number,
  regions: readonly RegionTarget[],
  fenced: readonly string[],
  statsSocket: string,
): string {
  for (const region of regions) {
    if (!NAME.test(region.name)) throw new Error(`global endpoint: invalid region name ${JSON.stringify(region.name)}`);
  }
  const servers = regions.map((region, index) => {
    const address = new URL(region.url).host;
    const flags = [index > 0 ? "backup" : "", fenced.includes(region.name) ? "disabled" : ""].filter((f) => f !== "");
    return `  server ${region.name} ${address} check ${flags.join(" ")}`.trimEnd();
  });
  return [
    "global",
    `  stats socket ${statsSocket} mode 600 level admin`,
    "  maxconn 4096",
    "",
    "defaults",
    "  mode http",
    "  option http-server-close",
    "  timeout connect 1s",
    "  timeout http-request 10s",
    "  timeout client 1h",
    "  timeout server 1h",
    // An upgraded WebSocket is a tunnel: idle rooms must not be cut.
    "  timeout tunnel 1h",
    "  timeout check 1s",
    "",
    "frontend global",
    `  bind ${LOOPBACK}:${port}`,
    "  default_backend regions",
    "",
    `backend ${BACKEND}`,
    // HTTP/1.1 with a Host header: nginx answers a bare HTTP/1.0 check without one with 400.
    "  option httpchk",
    "  http-check send meth GET uri /readyz ver HTTP/1.1 hdr Host region-health-check",
    "  http-check expect status 200",
    "  http-response set-header x-gomeet-region %[srv_name]",
    "  default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions",
    ...servers,
    "",
  ].join("\n");
}

export async function startGlobalEndpoint(
  regions: readonly RegionTarget[],
  options: { fenced?: readonly string[] } = {},
): Promise<GlobalEndpoint> {
  if (regions.length < 2) throw new Error("startGlobalEndpoint: at least two regions are required");
  const port = await freePort();
  const dir = await tempDir(`haproxy-global-${port}`);
  const statsSocket = path.join(dir, "admin.sock");
  const configFile = path.join(dir, "haproxy.cfg");
  const fenced = [...(options.fenced ?? [])];
  const writeConfig = () => fs.writeFile(configFile, globalEndpointConfig(port, regions, fenced, statsSocket));
  await writeConfig();
  const proc = spawnManaged(`haproxy-global-${port}`, findBinary("haproxy"), ["-db", "-f", configFile]);
  const serverStatus = async (): Promise<Record<string, ServerStatus>> =>
    parseServerStatus(await adminCommand(statsSocket, "show stat"), BACKEND);
  const command = async (line: string): Promise<void> => {
    const answer = (await adminCommand(statsSocket, line)).trim();
    if (answer !== "") throw new Error(`global endpoint: ${line}: ${answer}`);
  };
  const known = (region: string): void => {
    if (!regions.some((r) => r.name === region))
      throw new Error(`global endpoint: no region "${region}" (regions: ${regions.map((r) => r.name).join(", ")})`);
  };
  await waitForReady(
    proc,
    async () => {
      const status = await serverStatus();
      return regions.every((r) => fenced.includes(r.name) || !["", "INI"].includes(status[r.name]?.check ?? ""));
    },
    { timeoutMs: 10_000, intervalMs: 100, what: `the global endpoint on ${LOOPBACK}:${port} to check every region` },
  );
  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    process: proc,
    serverStatus,
    fenced: () => [...fenced],
    async fence(region) {
      known(region);
      if (!fenced.includes(region)) fenced.push(region);
      await writeConfig();
      await command(`set server ${BACKEND}/${region} state maint`);
      await command(`shutdown sessions server ${BACKEND}/${region}`);
    },
    async enable(region) {
      known(region);
      if (fenced.includes(region)) throw new Error(`global endpoint: region "${region}" is fenced; it is not put back by enable()`);
      await command(`set server ${BACKEND}/${region} state ready`);
    },
    stop: () => proc.stop(),
  };
}
