/**
 * Sentinel-managed Redis: primary + replica + three Sentinels (quorum 2), behind an HAProxy endpoint
 * that always routes to the current primary — the local stand-in for a managed Valkey cluster with a
 * standby node and a single connection endpoint.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { startRedisPrimaryProxy, type RedisPrimaryProxy } from "./haproxy";
import { freePort } from "./ports";
import { tempDir, waitFor } from "./process";
import { redisCommand, type RedisAddress } from "./redis-client";
import { RedisServer, startRedisPair, type RedisNode } from "./redis-node";

export interface SentinelHA {
  /** The nodes as started; after a failover `replica` may be the primary: ask currentPrimary(). */
  primary: RedisNode;
  replica: RedisNode;
  sentinels: RedisNode[];
  masterName: string;
  /** HAProxy: always routes to the current primary. */
  endpoint: { host: "127.0.0.1"; port: number; url: string };
  /** The HAProxy behind `endpoint`, for its health-check view of the nodes. */
  proxy: RedisPrimaryProxy;
  /** The primary according to the majority of the Sentinels that answer. */
  currentPrimary(): Promise<{ host: string; port: number }>;
  /** The data node that has `role` now, by the Sentinels' answer; throws naming the role when none has it. */
  nodeInRole(role: "primary" | "replica"): Promise<RedisNode>;
  stop(): Promise<void>;
}

export const MASTER_NAME = "gomeet";
const SENTINEL_COUNT = 3;
const QUORUM = 2;
/** SDOWN after 1 s without a valid reply; with the Sentinels' 1 s election jitter a failover takes a few seconds. */
const DOWN_AFTER_MS = 1000;
/** Also the retry delay (2x) when an election fails, so keep it small. */
const FAILOVER_TIMEOUT_MS = 2000;
const READY_TIMEOUT_MS = 10_000;

/**
 * Fencing for a hung primary that comes back: Sentinel runs this on every failover (leader and
 * observers alike, with <master-name> <role> <state> <from-ip> <from-port> <to-ip> <to-port>), and it
 * puts the old primary in HAProxy maintenance and the new one back in rotation. Without it a primary
 * thawed after SIGSTOP still answers role:master — for ~10 s, until a Sentinel turns it into a replica —
 * and HAProxy would route new connections to it: writes it took would be thrown away by its resync.
 */
export function reconfigScript(adminSocket: string, backend: string): string {
  const socket = JSON.stringify(adminSocket);
  return [
    "const net = require('node:net');",
    "const [fromIp, fromPort, toIp, toPort] = process.argv.slice(5);",
    `const old = \`${backend}/\${fromIp}:\${fromPort}\`;`,
    `const next = \`${backend}/\${toIp}:\${toPort}\`;`,
    "const commands = `set server ${old} state maint; shutdown sessions server ${old}; set server ${next} state ready\\n`;",
    `const admin = net.connect(${socket});`,
    "admin.setTimeout(5000, () => process.exit(2));",
    "admin.on('connect', () => admin.end(commands));",
    "admin.on('data', (chunk) => process.stderr.write(chunk));",
    "admin.on('error', (error) => { process.stderr.write(String(error) + '\\n'); process.exit(1); });",
    "admin.on('close', () => process.exit(0));",
    "",
  ].join("\n");
}

function sentinelConfig(port: number, dir: string, primary: RedisAddress, reconfig?: string): string {
  return [
    `port ${port}`,
    "bind 127.0.0.1",
    "daemonize no",
    `dir ${dir}`,
    'logfile ""',
    "sentinel resolve-hostnames no",
    `sentinel monitor ${MASTER_NAME} ${primary.host} ${primary.port} ${QUORUM}`,
    `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
    `sentinel parallel-syncs ${MASTER_NAME} 1`,
    ...(reconfig === undefined ? [] : [`sentinel client-reconfig-script ${MASTER_NAME} ${reconfig}`]),
    "",
  ].join("\n");
}

/** A Sentinel watching `primary`; its config file (which Sentinel rewrites) survives restarts. */
async function startSentinel(primary: RedisAddress, proxy?: RedisPrimaryProxy): Promise<RedisServer> {
  const port = await freePort();
  const dir = await tempDir(`sentinel-${port}`);
  const configFile = path.join(dir, "sentinel.conf");
  let reconfig: string | undefined;
  if (proxy !== undefined) {
    const scriptFile = path.join(dir, "reconfig.js");
    reconfig = path.join(dir, "reconfig.sh");
    await fs.writeFile(scriptFile, reconfigScript(proxy.adminSocket, proxy.backend));
    await fs.writeFile(reconfig, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(scriptFile)} "$@"\n`, {
      mode: 0o755,
    });
  }
  await fs.writeFile(configFile, sentinelConfig(port, dir, primary, reconfig));
  const sentinel = new RedisServer(`sentinel-${port}`, port, () => [configFile, "--sentinel"]);
  await sentinel.start();
  return sentinel;
}

/** Array replies of SENTINEL subcommands are flat [key, value, key, value, ...] lists. */
function asFields(entry: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (Array.isArray(entry)) for (let i = 0; i + 1 < entry.length; i += 2) fields[String(entry[i])] = String(entry[i + 1]);
  return fields;
}

async function sentinelList(sentinel: RedisAddress, what: "replicas" | "sentinels"): Promise<Record<string, string>[]> {
  const reply = await redisCommand(sentinel, ["SENTINEL", what, MASTER_NAME]);
  return Array.isArray(reply) ? reply.map(asFields) : [];
}

const healthy = (fields: Record<string, string>): boolean => !/s_down|o_down|disconnected/.test(fields.flags ?? "");

/** Asks every Sentinel for the primary's address; returns the answer most of them give. */
export async function askSentinels(sentinels: readonly RedisAddress[]): Promise<{ host: string; port: number }> {
  const answers = await Promise.allSettled(sentinels.map((s) => redisCommand(s, ["SENTINEL", "get-master-addr-by-name", MASTER_NAME])));
  const votes = new Map<string, number>();
  for (const answer of answers) {
    if (answer.status === "fulfilled" && Array.isArray(answer.value) && answer.value.length === 2) {
      const key = `${String(answer.value[0])}:${String(answer.value[1])}`;
      votes.set(key, (votes.get(key) ?? 0) + 1);
    }
  }
  const best = [...votes.entries()].sort((a, b) => b[1] - a[1])[0];
  if (best === undefined) {
    const reasons = answers.map((a) => (a.status === "rejected" ? String(a.reason) : "no address")).join("; ");
    throw new Error(`No Sentinel knows the primary of "${MASTER_NAME}": ${reasons}`);
  }
  const [host, port] = best[0].split(":");
  return { host: host as string, port: Number(port) };
}

/**
 * Starts the whole Sentinel setup; resolves once every Sentinel sees the primary, the replica and
 * the two other Sentinels (so a failover can be authorised), and HAProxy routes to the primary only.
 */
export async function startSentinelHA(): Promise<SentinelHA> {
  const pair = await startRedisPair();
  const proxy = await startRedisPrimaryProxy([pair.primary, pair.replica]);
  // Only the node the Sentinels elect gets traffic; each failover moves that (see reconfigScript).
  await proxy.setServerState(pair.replica, "maint");
  const sentinels = await Promise.all(Array.from({ length: SENTINEL_COUNT }, () => startSentinel(pair.primary, proxy)));
  const currentPrimary = (): Promise<{ host: string; port: number }> => askSentinels(sentinels);
  const nodeInRole = async (role: "primary" | "replica"): Promise<RedisNode> => {
    const primary = await currentPrimary();
    const node = [pair.primary, pair.replica].find((n) => (n.port === primary.port) === (role === "primary"));
    if (node === undefined) throw new Error(`no Valkey node is the ${role}: the Sentinels name ${primary.host}:${primary.port} as primary`);
    return node;
  };
  // A data node that restarts comes back as a replica of the current primary, like a managed
  // standby, instead of as a second primary that HAProxy would route writes to until Sentinel demotes it.
  for (const node of [pair.primary, pair.replica]) {
    if (node instanceof RedisServer) {
      node.rejoin = async () => {
        const primary = await currentPrimary();
        return primary.port === node.port ? undefined : primary;
      };
    }
  }
  const stop = async (): Promise<void> => {
    await Promise.all([proxy.stop(), ...sentinels.map((s) => s.process.stop()), pair.stop()]);
  };
  try {
    await waitFor(
      async () => {
        for (const sentinel of sentinels) {
          const [replicas, peers] = await Promise.all([sentinelList(sentinel, "replicas"), sentinelList(sentinel, "sentinels")]);
          if (replicas.filter(healthy).length < 1 || peers.filter(healthy).length < SENTINEL_COUNT - 1) return false;
        }
        const status = await proxy.serverStatus();
        return status[`${pair.primary.host}:${pair.primary.port}`]?.status === "UP";
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 100, what: "the Sentinels to discover the replica and each other" },
    );
  } catch (error) {
    const logs = sentinels.map((s) => `--- ${s.name} ---\n${s.process.logs()}`).join("\n");
    await stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${logs}`);
  }
  return {
    primary: pair.primary,
    replica: pair.replica,
    sentinels,
    masterName: MASTER_NAME,
    endpoint: { host: proxy.host, port: proxy.port, url: proxy.url },
    proxy,
    currentPrimary,
    nodeInRole,
    stop,
  };
}
