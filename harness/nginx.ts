/**
 * nginx as the load balancer in front of the app instances — the local stand-in for the DigitalOcean
 * load balancer: least_conn with passive health checks
 * (max_fails / fail_timeout), retry on another instance for idempotent requests only, WebSocket
 * upgrade headers, and a read timeout long enough for idle WebSockets.
 */
import { readFileSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { findBinary } from "./binaries";
import { freePort, isListening } from "./ports";
import { spawnManaged, tempDir, waitFor, waitForReady, type ManagedProcess } from "./process";
import { processTree } from "./proc-tree";

export interface Upstream {
  host: string;
  port: number;
}

export interface NginxOptions {
  /** Listen port (default: a free one). */
  port?: number;
  /** Path prefix carrying WebSockets, given the long read timeout (default "/ws"). */
  wsPath?: string;
  /** Failed attempts within failTimeoutSeconds that eject an upstream for failTimeoutSeconds (default 3). */
  maxFails?: number;
  /**
   * Default 2 s: an ejected instance is retried after this long. It must be shorter than the gap between
   * two instances going down in a rolling restart (about 3 s locally): with 5 s, the instance restarted
   * just before was still ejected when the next one closed, and nginx had no live upstream left (a 502).
   * The DigitalOcean load balancer readmits an instance as soon as its health checks pass.
   */
  failTimeoutSeconds?: number;
}

export interface NginxLoadBalancer {
  port: number;
  url: string;
  process: ManagedProcess;
  stop(): Promise<void>;
  /**
   * Rewrites the upstream list and reloads; resolves once new workers accept connections and the old
   * ones have stopped accepting. Requests and WebSockets already open finish on the old workers
   * (for at most worker_shutdown_timeout, 10 s).
   */
  reload(upstreams: Upstream[]): Promise<void>;
}

const LOOPBACK = "127.0.0.1";
/** Idle WebSockets are kept for an hour (a 10 s read timeout would cut every quiet socket). */
const WS_TIMEOUT = "3600s";

function validate(upstreams: readonly Upstream[]): void {
  if (upstreams.length === 0) throw new Error("startNginx: at least one upstream is required");
  for (const u of upstreams) {
    if (!/^[A-Za-z0-9.-]+$/.test(u.host) || !Number.isInteger(u.port) || u.port < 1 || u.port > 65535) {
      throw new Error(`startNginx: invalid upstream ${JSON.stringify(u)}`);
    }
  }
}

export function nginxConfig(
  port: number,
  upstreams: readonly Upstream[],
  dir: string,
  opts: Required<Pick<NginxOptions, "wsPath" | "maxFails" | "failTimeoutSeconds">>,
): string {
  const proxyCommon = [
    "      proxy_pass http://app;",
    "      proxy_http_version 1.1;",
    "      proxy_set_header Host $http_host;",
    "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
    "      proxy_set_header X-Forwarded-Proto $scheme;",
    "      proxy_set_header X-Real-IP $remote_addr;",
    "      proxy_set_header Upgrade $http_upgrade;",
    "      proxy_set_header Connection $connection_upgrade;",
  ];
  return [
    "daemon off;",
    "master_process on;",
    "worker_processes 1;",
    `pid ${path.join(dir, "nginx.pid")};`,
    "error_log stderr warn;",
    // After a reload, old workers close what they still hold (idle WebSockets) after 10 s instead of never.
    "worker_shutdown_timeout 10s;",
    "events { worker_connections 4096; }",
    "http {",
    "  access_log off;",
    `  client_body_temp_path ${path.join(dir, "client_body")};`,
    `  proxy_temp_path ${path.join(dir, "proxy")};`,
    `  fastcgi_temp_path ${path.join(dir, "fastcgi")};`,
    `  uwsgi_temp_path ${path.join(dir, "uwsgi")};`,
    `  scgi_temp_path ${path.join(dir, "scgi")};`,
    "  map $http_upgrade $connection_upgrade { default upgrade; '' close; }",
    "  upstream app {",
    "    least_conn;",
    ...upstreams.map((u) => `    server ${u.host}:${u.port} max_fails=${opts.maxFails} fail_timeout=${opts.failTimeoutSeconds}s;`),
    "  }",
    "  server {",
    `    listen ${LOOPBACK}:${port};`,
    // A dead instance refuses at once; a hung one must not hold requests for nginx's default 60 s.
    "    proxy_connect_timeout 1s;",
    // Retry on another instance only for idempotent requests (nginx's default without non_idempotent), and
    // only when the instance failed: the app's 503 means "a dependency is down" (e.g. Valkey failing over),
    // an answer every instance would give; counting it toward max_fails ejected every instance at once. A
    // draining instance closes its listener, which counts as "error".
    "    proxy_next_upstream error timeout http_502;",
    "    proxy_next_upstream_tries 3;",
    `    location ${opts.wsPath} {`,
    ...proxyCommon,
    `      proxy_read_timeout ${WS_TIMEOUT};`,
    `      proxy_send_timeout ${WS_TIMEOUT};`,
    "      proxy_buffering off;",
    "    }",
    "    location / {",
    ...proxyCommon,
    "      proxy_read_timeout 30s;",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}

async function check(nginxBinary: string, configFile: string, dir: string): Promise<void> {
  const test = spawnManaged(`nginx-config-test-${path.basename(dir)}`, nginxBinary, [
    "-t",
    "-q",
    "-p",
    dir,
    "-e",
    "stderr",
    "-c",
    configFile,
  ]);
  const code = await test.exited;
  if (code !== 0) throw new Error(`nginx rejected ${configFile}:\n${test.logs()}`);
}

/** nginx retitles a worker that stopped accepting ("worker process is shutting down"). */
function isRetiring(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("shutting down");
  } catch {
    return true; // gone
  }
}

/** Worker pids of an nginx master. */
function workerPids(master: number): number[] {
  return processTree(master)
    .map((p) => p.pid)
    .filter((pid) => pid !== master);
}

/** nginx in the foreground in front of `upstreams`; resolves once it accepts connections. */
export async function startNginx(upstreams: Upstream[], opts: NginxOptions = {}): Promise<NginxLoadBalancer> {
  validate(upstreams);
  const settings = {
    wsPath: opts.wsPath ?? "/ws",
    maxFails: opts.maxFails ?? 3,
    failTimeoutSeconds: opts.failTimeoutSeconds ?? 2,
  };
  if (!/^\/[A-Za-z0-9/_-]*$/.test(settings.wsPath)) throw new Error(`startNginx: invalid wsPath "${settings.wsPath}"`);
  const port = opts.port ?? (await freePort());
  const dir = await tempDir(`nginx-${port}`);
  // Workers run as nobody and need to reach their temp paths inside this directory.
  await fs.chmod(dir, 0o755);
  const configFile = path.join(dir, "nginx.conf");
  const nginxBinary = findBinary("nginx");
  await fs.writeFile(configFile, nginxConfig(port, upstreams, dir, settings));
  await check(nginxBinary, configFile, dir);
  const proc = spawnManaged(`nginx-${port}`, nginxBinary, ["-p", dir, "-e", "stderr", "-c", configFile]);
  await waitForReady(proc, () => isListening(port), { timeoutMs: 5000, what: `nginx to listen on ${LOOPBACK}:${port}` });
  return {
    port,
    url: `http://${LOOPBACK}:${port}`,
    process: proc,
    stop: () => proc.stop(),
    reload: async (next) => {
      validate(next);
      const before = new Set(workerPids(proc.pid));
      await fs.writeFile(configFile, nginxConfig(port, next, dir, settings));
      await check(nginxBinary, configFile, dir);
      process.kill(proc.pid, "SIGHUP");
      await waitFor(
        async () => {
          const workers = workerPids(proc.pid);
          return workers.some((pid) => !before.has(pid)) && [...before].every(isRetiring);
        },
        { timeoutMs: 5000, intervalMs: 20, what: `nginx on ${LOOPBACK}:${port} to switch its workers to the new configuration` },
      );
    },
  };
}
