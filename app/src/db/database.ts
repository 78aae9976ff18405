/**
 * PostgreSQL access: writes go to the primary (through the managed connection pool); reads go
 * round-robin to healthy replicas and fall back to the primary. No promotion here: the managed
 * service promotes its standby behind the same primary endpoint, and the pools reconnect.
 *
 * - Health: a background `SELECT 1` per node; a node that drops a connection is marked unhealthy at once.
 * - Reads are idempotent: on a dropped connection they are retried once, on the next candidate.
 * - Writes are not retried (the outcome is unknown); a connection failure or a read-only node
 *   becomes a fast 503 `database_unavailable` (short connection timeout).
 */
import { Pool, type PoolConfig, type QueryResultRow } from "pg";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { DependencyUnavailableError, RegionStandbyError, errorMessage } from "../errors";
import { Periodic } from "../periodic";
import { certificateProblem, postgresConnection } from "../tls";
import { parseRegionRole, REGION_ROLE_QUERY, type RegionRoleRow, type RegionRoleState } from "./region-role";

export interface DatabaseOptions {
  primaryUrl: string;
  replicaUrls: string[];
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  poolMax: number;
  healthIntervalMs: number;
  /** PEM of the CA the servers' certificates must chain to (DATABASE_CA_FILE): set, every connection is verify-full. */
  ca?: string;
  /**
   * REGION_ROLE=auto: the primary endpoint may be a standby region's read-only node. A server in recovery there is then
   * healthy, and the region's role (and realtime epoch) comes from it at every health check; writes answer 503
   * region_standby while it is a standby.
   */
  followRegionRole?: boolean;
}

export interface NodeHealth {
  name: string;
  healthy: boolean;
  latencyMs?: number;
  checkedAt?: string;
  error?: string;
}

class DatabaseNode {
  health: NodeHealth;

  constructor(
    readonly role: "primary" | "replica",
    readonly name: string,
    readonly pool: Pool,
  ) {
    this.health = { name, healthy: false };
  }
}

/** SQLSTATE classes and client errors that mean "this connection or node is gone", not "this query is wrong". */
const CONNECTION_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "25006"]);
const CONNECTION_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "EAI_AGAIN"]);

export function isConnectionError(error: unknown): boolean {
  // Duck-typed: errors raised by Node's net module may come from another realm (instanceof Error fails).
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string" && (CONNECTION_SQLSTATES.has(code) || code.startsWith("08") || CONNECTION_ERRNOS.has(code))) return true;
  return (
    typeof message === "string" &&
    /Connection terminated|timeout exceeded when trying to connect|connection timeout|Client has encountered a connection error|Query read timeout|ECONNREFUSED|ECONNRESET/i.test(
      message,
    )
  );
}

/** host:port/database of a URL, without credentials (for logs and /readyz). */
function nodeName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`;
}

export class Database {
  readonly primary: DatabaseNode;
  readonly replicas: DatabaseNode[];
  private nextReplica = 0;
  private readonly healthChecks: Periodic;
  private regionState: RegionRoleState | undefined;
  private readonly regionListeners: Array<(state: RegionRoleState, previous: RegionRoleState | undefined) => void> = [];

  constructor(
    private readonly options: DatabaseOptions,
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    this.primary = this.node("primary", options.primaryUrl);
    this.replicas = options.replicaUrls.map((url) => this.node("replica", url));
    this.healthChecks = new Periodic(options.healthIntervalMs, () => this.checkAll());
  }

  /** Checks every node once, then keeps checking in the background. */
  async start(): Promise<void> {
    await this.checkAll();
    // A certificate that does not verify is a misconfiguration, not a blip: fail the start with what is wrong.
    const primaryError = this.primary.health.error;
    if (primaryError?.startsWith("TLS:")) {
      await this.stop();
      throw new Error(primaryError);
    }
    this.healthChecks.start();
  }

  async stop(): Promise<void> {
    await this.healthChecks.stop();
    await Promise.allSettled([this.primary, ...this.replicas].map((node) => node.pool.end()));
  }

  health(): { primary: NodeHealth; replicas: NodeHealth[] } {
    return { primary: { ...this.primary.health }, replicas: this.replicas.map((node) => ({ ...node.health })) };
  }

  /** REGION_ROLE=auto: the role and epoch from the last check that answered (undefined before one did, and with REGION_ROLE=primary). */
  region(): RegionRoleState | undefined {
    return this.regionState === undefined ? undefined : { ...this.regionState };
  }

  /** Called after every check that answered with a role different from the last one (the first answer included). */
  onRegionRole(listener: (state: RegionRoleState, previous: RegionRoleState | undefined) => void): void {
    this.regionListeners.push(listener);
  }

  /** A write on the primary; in a standby region a fast 503 region_standby (nothing is sent). */
  async write<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    if (this.regionState?.role === "standby") throw new RegionStandbyError(Math.max(1, Math.ceil(this.options.healthIntervalMs / 1000)));
    return this.readLatest<R>(text, values);
  }

  /** A read that must see the latest write this region has, on the primary endpoint (in a standby region: its read-only node). */
  async readLatest<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await this.primary.pool.query<R>(text, values)).rows;
    } catch (error) {
      if (!isConnectionError(error)) throw error;
      this.markUnhealthy(this.primary, error);
      throw new DependencyUnavailableError("database_unavailable", "The primary database is unavailable; retry shortly");
    }
  }

  /** An idempotent read: a healthy replica (round-robin), else the primary; retried once on a dropped connection. */
  async read<R extends QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    const candidates = this.readCandidates();
    let lastError: unknown;
    for (const node of candidates.slice(0, 2)) {
      try {
        return (await node.pool.query<R>(text, values)).rows;
      } catch (error) {
        if (!isConnectionError(error)) throw error;
        this.markUnhealthy(node, error);
        lastError = error;
      }
    }
    this.logger.warn({ err: errorMessage(lastError) }, "read failed on every candidate");
    throw new DependencyUnavailableError("database_unavailable", "No database node is available for reads; retry shortly");
  }

  /** Healthy replicas starting at the round-robin position, then the primary; if no replica is healthy, the primary first. */
  private readCandidates(): DatabaseNode[] {
    const healthy = this.replicas.filter((node) => node.health.healthy);
    const ordered: DatabaseNode[] = [];
    if (healthy.length > 0) {
      const start = this.nextReplica++ % healthy.length;
      for (let i = 0; i < healthy.length; i++) ordered.push(healthy[(start + i) % healthy.length] as DatabaseNode);
    }
    ordered.push(this.primary);
    // Unhealthy replicas are a last resort: one may have come back since the last check.
    for (const node of this.replicas) if (!node.health.healthy) ordered.push(node);
    return ordered;
  }

  private node(role: "primary" | "replica", url: string): DatabaseNode {
    const config: PoolConfig = {
      ...postgresConnection(url, this.options.ca),
      max: this.options.poolMax,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      query_timeout: this.options.queryTimeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: "gomeet-app",
    };
    const node = new DatabaseNode(role, nodeName(url), new Pool(config));
    // An idle client whose server went away emits here; without a listener the process would crash.
    node.pool.on("error", (error) => this.markUnhealthy(node, error));
    return node;
  }

  private markUnhealthy(node: DatabaseNode, error: unknown): void {
    const problem = certificateProblem(error, `PostgreSQL ${node.name}`, "DATABASE_CA_FILE") ?? errorMessage(error);
    if (node.health.healthy || problem !== node.health.error) {
      this.logger.warn({ node: node.name, role: node.role, err: problem }, "database node unhealthy");
    }
    node.health = { ...node.health, healthy: false, error: problem, checkedAt: new Date().toISOString() };
    this.metrics.dependencyUp.set({ dependency: `postgres_${node.role}`, name: node.name }, 0);
  }

  private async checkAll(): Promise<void> {
    await Promise.all([this.primary, ...this.replicas].map((node) => this.check(node)));
  }

  private async check(node: DatabaseNode): Promise<void> {
    const started = performance.now();
    try {
      if (node.role === "primary" && this.options.followRegionRole === true) {
        this.updateRegionRole(parseRegionRole((await node.pool.query<RegionRoleRow>(REGION_ROLE_QUERY)).rows[0]));
      } else if (node.role === "primary") {
        const [row] = (await node.pool.query<{ recovery: boolean }>("SELECT pg_is_in_recovery() AS recovery")).rows;
        if (row?.recovery === true) throw new Error("the primary endpoint is a server in recovery (read-only)");
      } else {
        await node.pool.query("SELECT 1");
      }
      if (!node.health.healthy) this.logger.info({ node: node.name, role: node.role }, "database node healthy");
      node.health = {
        name: node.name,
        healthy: true,
        latencyMs: Math.round((performance.now() - started) * 100) / 100,
        checkedAt: new Date().toISOString(),
      };
      this.metrics.dependencyUp.set({ dependency: `postgres_${node.role}`, name: node.name }, 1);
    } catch (error) {
      this.markUnhealthy(node, error);
    }
  }

  private updateRegionRole(state: RegionRoleState): void {
    const previous = this.regionState;
    this.regionState = state;
    this.metrics.replicationLag.set(state.lagSeconds ?? 0);
    for (const role of ["primary", "standby"] as const) this.metrics.regionRole.set({ role }, role === state.role ? 1 : 0);
    this.metrics.realtimeEpoch.set(state.epoch ?? 0);
    if (previous?.role === state.role && previous.epoch === state.epoch) return;
    this.logger.info({ role: state.role, epoch: state.epoch, previous: previous?.role }, "region role from the database");
    for (const listener of this.regionListeners) listener(state, previous);
  }
}
