/**
 * A pg_auto_failover formation on loopback (Debian `postgresql-15-auto-failover`, `pg_autoctl`): a
 * monitor and two data nodes, a primary and a hot standby, each node run by its own `pg_autoctl run`
 * keeper, which supervises its PostgreSQL. The monitor health-checks the nodes and, when the primary
 * dies, promotes the standby; a former primary that comes back is demoted and rewound (pg_rewind)
 * into a standby of the new one. This is the local stand-in for DigitalOcean's managed primary +
 * standby node: nobody takes a manual step.
 *
 * Timings are the monitor's GUCs and the keepers' `timeout.*` settings (see FAILOVER_SETTINGS).
 * Every process runs as the `postgres` user when the harness runs as root, else as the current user; either way the
 * superuser is `postgres` (the harness makes each data directory with initdb, and pg_autoctl takes it over). The
 * nodes listen on 127.0.0.1 only.
 */
import fsSync from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Client } from "pg";
import { findBinary } from "./binaries";
import { freePort } from "./ports";
import { processTree, signalAll } from "./proc-tree";
import {
  autoctlEnv,
  formationSocketDir,
  initDataDir,
  nodeHome,
  POSTGRES_USER,
  postgresBinDir,
  runAutoctl,
  type AutoctlHome,
} from "./pg-autoctl";
import { spawnManaged, waitFor, waitForReady, type ManagedProcess } from "./process";

const LOOPBACK = "127.0.0.1" as const;
export const DATABASE = "gomeet";
const FORMATION_TIMEOUT_MS = 60_000;

/**
 * The failure detector's timings. pg_auto_failover's defaults (health check every 5 s, a node
 * unhealthy after 20 s without a report, a 30 s demote timeout) take about 40 s to fail over; these
 * aim at DigitalOcean's documented behaviour (the standby "immediately takes over") and the issue's
 * target (writes back within 10 s). Names and defaults: hapostgres/pg_auto_failover at tag v2.0
 * (df9fdde73d9d2f974053816ae94be209fef6d417), src/monitor/pg_auto_failover.c (the monitor GUCs) and
 * src/bin/pg_autoctl/defaults.h (NETWORK_PARTITION_TIMEOUT 20 s).
 */
export const FAILOVER_SETTINGS = {
  monitor: {
    /** A health check (a libpq connection attempt) of every node each second, instead of every 5 s. */
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 500,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 250,
    /** Unhealthy once the health check failed and the keeper has not reported (every second) for 2 s. */
    "pgautofailover.node_considered_unhealthy_timeout": 2000,
    /**
     * How long the monitor waits for an unreachable old primary to demote itself before the standby
     * takes writes. It must exceed the keepers' network_partition_timeout (below), after which a
     * primary that can reach neither the monitor nor its standby stops itself: that is the fencing.
     */
    "pgautofailover.primary_demote_timeout": 4000,
    /** No failover in the first 2 s after the monitor starts. */
    "pgautofailover.startup_grace_period": 2000,
  },
  keeper: {
    /** Seconds: a primary alone on the network (no monitor, no standby) demotes itself after this. */
    "timeout.network_partition_timeout": 3,
  },
} as const;

/**
 * Appended to each data node's postgresql.conf (after pg_autoctl's include, so these win). The
 * standby stays a quorum (synchronous) candidate, so `synchronous_standby_names` names it and a
 * session can ask for `synchronous_commit = on`; the default `local` acknowledges a commit once it is
 * on the primary alone, as with DigitalOcean's asynchronous standby. Port, listen address and socket
 * are pg_autoctl's (set per node on its command line).
 */
const NODE_SETTINGS = [
  "",
  "# --- GoMeet test harness ---",
  // Throwaway servers: no fsync. full_page_writes stays on: pg_rewind needs it.
  "fsync = off",
  "synchronous_commit = local",
  "max_wal_senders = 10",
  "max_replication_slots = 10",
  "wal_keep_size = '256MB'",
  "wal_receiver_timeout = '5s'",
  "wal_retrieve_retry_interval = '500ms'",
  "wal_receiver_status_interval = '1s'",
  "max_connections = 200",
  "shared_buffers = '32MB'",
  "",
].join("\n");

export type NodeState = "single" | "primary" | "wait_primary" | "secondary" | "catchingup" | "demoted" | string;

export interface FormationNode {
  name: string;
  host: typeof LOOPBACK;
  port: number;
  /** postgres://postgres@127.0.0.1:<port>/gomeet (this node, whatever its role). */
  url: string;
  dataDir: string;
  /** The node's keeper (`pg_autoctl run`); its PostgreSQL is a child of it. Replaced by start(). */
  process: ManagedProcess;
  /** The pid of the node's PostgreSQL server (postmaster), if it runs. */
  postgresPid(): number | undefined;
  /** SIGKILL of the keeper and its PostgreSQL: the node's machine dies. */
  kill(): Promise<void>;
  /** SIGKILL of the PostgreSQL server alone: the keeper notices and starts it again. */
  killPostgres(): Promise<void>;
  /** Starts the keeper again on the same data dir and port; resolves once the node has rejoined (secondary or primary). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeStatus {
  name: string;
  port: number;
  reported: NodeState;
  assigned: NodeState;
}

export interface PgFormation {
  monitor: { port: number; url: string; dataDir: string; process: ManagedProcess };
  nodes: [FormationNode, FormationNode];
  /** Every node's reported and assigned state, from the monitor. */
  states(): Promise<NodeStatus[]>;
  /** The node the monitor has as primary (reported and assigned primary or wait_primary), if any. */
  currentPrimary(): Promise<FormationNode | undefined>;
  /** Resolves once one node is primary and the other secondary, both as reported and as assigned. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function query<T extends object>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  // Connection errors also reject connect()/query(), which is where they are reported.
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.query(sql, values)).rows as T[];
  } finally {
    // Closing a connection that never opened fails too; the connect/query error above is the one that matters.
    await client.end().catch(() => undefined);
  }
}

function postmasterPid(keeper: ManagedProcess, dataDir: string): number | undefined {
  // The keeper's tree holds its sub-processes and the postmaster; the postmaster is the one running `postgres -D <dataDir>`.
  for (const id of processTree(keeper.pid)) {
    const cmdline = readCmdline(id.pid);
    if (cmdline[0]?.endsWith("/postgres") && cmdline.includes(dataDir)) return id.pid;
  }
  return undefined;
}

function readCmdline(pid: number): string[] {
  try {
    const text = fsSync.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return text.split("\0").filter((part) => part !== "");
  } catch {
    return [];
  }
}

class AutoctlNode implements FormationNode {
  readonly host = LOOPBACK;
  readonly url: string;
  readonly dataDir: string;
  process!: ManagedProcess;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dirs: AutoctlHome,
    private readonly formationStates: () => Promise<NodeStatus[]>,
  ) {
    this.url = `postgres://${POSTGRES_USER}@${LOOPBACK}:${port}/${DATABASE}`;
    this.dataDir = dirs.dataDir;
  }

  /** Starts the keeper; resolves once its PostgreSQL accepts connections. */
  async run(): Promise<void> {
    this.process = spawnManaged(`pg_autoctl-${this.name}`, findBinary("pg_autoctl"), ["run", "--pgdata", this.dataDir], {
      asUser: POSTGRES_USER,
      env: autoctlEnv(this.dirs),
      // SIGINT: pg_autoctl stops its PostgreSQL with a fast shutdown, then exits.
      stopSignal: "SIGINT",
    });
    await waitForReady(this.process, async () => (await query(this.url, "SELECT 1")).length === 1, {
      timeoutMs: FORMATION_TIMEOUT_MS,
      intervalMs: 100,
      what: `${this.name}'s PostgreSQL to accept connections on ${LOOPBACK}:${this.port}`,
    });
  }

  postgresPid(): number | undefined {
    return postmasterPid(this.process, this.dataDir);
  }

  kill(): Promise<void> {
    return this.process.kill();
  }

  async killPostgres(): Promise<void> {
    const pid = this.postgresPid();
    if (pid === undefined) throw new Error(`${this.name}: its PostgreSQL is not running`);
    signalAll(processTree(pid), "SIGKILL");
  }

  async start(): Promise<void> {
    await this.run();
    await waitFor(
      async () => {
        const me = (await this.formationStates()).find((s) => s.name === this.name);
        return me !== undefined && me.reported === me.assigned && ["secondary", "primary"].includes(me.reported);
      },
      { timeoutMs: FORMATION_TIMEOUT_MS, intervalMs: 200, what: `${this.name} to rejoin the formation` },
    );
  }

  stop(): Promise<void> {
    return this.process.stop(15_000);
  }
}

/** Writes the monitor GUCs into the monitor's postgresql.conf. */
function monitorSettings(): string {
  const lines = Object.entries(FAILOVER_SETTINGS.monitor).map(([key, value]) => `${key} = ${value}`);
  return ["", "# --- GoMeet test harness: failure detector timings ---", ...lines, ""].join("\n");
}

async function createMonitor(socketDir: string): Promise<PgFormation["monitor"]> {
  const port = await freePort();
  const dirs = await nodeHome(`pg-monitor-${port}`, socketDir);
  const { dataDir } = dirs;
  await initDataDir(`monitor-${port}`, dirs);
  await runAutoctl(`pg_autoctl-create-monitor-${port}`, dirs, [
    "create",
    "monitor",
    "--pgdata",
    dataDir,
    "--pgport",
    String(port),
    "--hostname",
    LOOPBACK,
    "--listen",
    LOOPBACK,
    "--auth",
    "trust",
    "--no-ssl",
  ]);
  await fs.appendFile(path.join(dataDir, "postgresql.conf"), monitorSettings());
  const url = `postgres://autoctl_node@${LOOPBACK}:${port}/pg_auto_failover?sslmode=disable`;
  const proc = spawnManaged(`pg_autoctl-monitor-${port}`, findBinary("pg_autoctl"), ["run", "--pgdata", dataDir], {
    asUser: POSTGRES_USER,
    env: autoctlEnv(dirs),
    stopSignal: "SIGINT",
  });
  await waitForReady(proc, async () => (await query(url, "SELECT 1 FROM pgautofailover.formation")).length > 0, {
    timeoutMs: FORMATION_TIMEOUT_MS,
    intervalMs: 100,
    what: `the pg_auto_failover monitor on ${LOOPBACK}:${port}`,
  });
  return { port, url, dataDir, process: proc };
}

/** `pg_autoctl create postgres` (registers the node; the second one is made from the first with pg_basebackup), then `run`. */
async function createNode(
  name: string,
  monitorUrl: string,
  states: () => Promise<NodeStatus[]>,
  first: boolean,
  socketDir: string,
): Promise<AutoctlNode> {
  const port = await freePort();
  const dirs = await nodeHome(`pg-${name}-${port}`, socketDir);
  const { dataDir } = dirs;
  // The second node is made from the first by pg_autoctl (pg_basebackup).
  if (first) await initDataDir(name, dirs);
  await runAutoctl(`pg_autoctl-create-${name}`, dirs, [
    "create",
    "postgres",
    "--pgdata",
    dataDir,
    "--pgport",
    String(port),
    "--pgctl",
    path.join(postgresBinDir(), "pg_ctl"),
    "--hostname",
    LOOPBACK,
    "--listen",
    LOOPBACK,
    "--name",
    name,
    "--dbname",
    DATABASE,
    "--auth",
    "trust",
    "--no-ssl",
    "--monitor",
    monitorUrl,
  ]);
  // The second node's postgresql.conf is a copy of the first one's (pg_basebackup), settings included.
  if (first) await fs.appendFile(path.join(dataDir, "postgresql.conf"), NODE_SETTINGS);
  for (const [key, value] of Object.entries(FAILOVER_SETTINGS.keeper)) {
    await runAutoctl(`pg_autoctl-config-${name}`, dirs, ["config", "set", "--pgdata", dataDir, key, String(value)]);
  }
  const node = new AutoctlNode(name, port, dirs, states);
  await node.run();
  return node;
}

/**
 * Starts the monitor, then the first node (it becomes the primary), then the second (a standby made
 * from the first); resolves once the monitor reports primary + secondary.
 */
export async function startPgFormation(): Promise<PgFormation> {
  // One unix socket directory for the whole formation: the second node's configuration is a copy of the first's.
  const socketDir = await formationSocketDir();
  const monitor = await createMonitor(socketDir);
  const nodes: AutoctlNode[] = [];
  const states = async (): Promise<NodeStatus[]> => {
    const rows = await query<{ nodename: string; nodeport: number; reportedstate: string; goalstate: string }>(
      monitor.url,
      "SELECT nodename, nodeport, reportedstate::text, goalstate::text FROM pgautofailover.node ORDER BY nodeid",
    );
    return rows.map((r) => ({ name: r.nodename, port: r.nodeport, reported: r.reportedstate, assigned: r.goalstate }));
  };
  const stop = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((n) => n.stop()));
    await monitor.process.stop(15_000);
  };
  try {
    nodes.push(await createNode("node_a", monitor.url, states, true, socketDir));
    await waitFor(async () => (await states()).some((s) => s.reported === "single"), {
      timeoutMs: FORMATION_TIMEOUT_MS,
      intervalMs: 100,
      what: "the first node to be the formation's single primary",
    });
    nodes.push(await createNode("node_b", monitor.url, states, false, socketDir));
  } catch (error) {
    await stop();
    throw error;
  }
  const pair = nodes as [AutoctlNode, AutoctlNode];
  const healthy = async (): Promise<boolean> => {
    const all = await states();
    const settled = all.every((s) => s.reported === s.assigned);
    return (
      settled && all.filter((s) => s.reported === "primary").length === 1 && all.filter((s) => s.reported === "secondary").length === 1
    );
  };
  const formation: PgFormation = {
    monitor,
    nodes: pair,
    states,
    async currentPrimary() {
      const primary = (await states()).find((s) => ["primary", "wait_primary"].includes(s.reported) && s.reported === s.assigned);
      return pair.find((n) => n.name === primary?.name);
    },
    async waitHealthy(timeoutMs = FORMATION_TIMEOUT_MS) {
      let last: NodeStatus[] = [];
      try {
        await waitFor(
          async () => {
            last = await states();
            return healthy();
          },
          { timeoutMs, intervalMs: 100, what: "the formation to have a primary and a secondary" },
        );
      } catch (error) {
        const seen = last.map((s) => `${s.name} ${s.reported}/${s.assigned}`).join(", ");
        throw new Error(`${(error as Error).message} (states: ${seen})`);
      }
    },
    stop,
  };
  try {
    await formation.waitHealthy();
  } catch (error) {
    const logs = [monitor.process, ...pair.map((n) => n.process)].map((p) => `--- ${p.name} ---\n${p.logs()}`).join("\n");
    await stop();
    throw new Error(`${(error as Error).message}\n${logs}`);
  }
  return formation;
}
