/**
 * The DigitalOcean failover driver: the five steps of app/src/failover/types.ts as real API calls (paths and bodies
 * from digitalocean/openapi@7c1300c479fed9c353cda9fc21cd968619552304:specification/DigitalOcean-public.v2.yaml;
 * test/failover/digitalocean-driver.test.ts checks every request against the distilled schemas).
 *
 *   fence         GLB: the lost region's load balancer out of the targets and the priorities (PUT /v2/load_balancers/{glb});
 *                 the old primary's trusted sources replaced by one tag no resource carries
 *                 (PUT /v2/databases/{uuid}/firewall): when the region comes back, its apps cannot write there.
 *   promote       PUT /v2/databases/{primary uuid}/replicas/{name}/promote, then GET /v2/databases/{node uuid} until online.
 *   switch-entry  GLB: the new region's load balancer the only target, priority 1.
 *   restore       the app's pool on the promoted cluster (POST /v2/databases/{uuid}/pools) and a standby node
 *                 (PUT /v2/databases/{uuid}/resize with the configured node count).
 *   confirm       the GLB targets the new region only, the cluster is online, and the entry probe passes (entry-probe.ts:
 *                 /readyz through the GLB, and a synthetic write with a user token; no WebSocket join yet).
 * Each step reads first and changes only what is not yet as wanted: re-running it after a partial failure is safe.
 * The driver fails over from the topology's primary to its standby only: failing back is a rebuild (docs/runbooks.md).
 */
import { ApiError, DigitalOceanApi } from "./digitalocean-api";
import { regionOf, type FailoverTopology } from "./digitalocean-topology";
import type { FailoverDriver, StepPlan, VantagePoint } from "./types";

/** The tag the fenced cluster's only trusted source names: nothing carries it, so nothing gets in. */
export const FENCE_TAG = "gomeet-fenced";

/** The synthetic write and WebSocket join of the confirm step, through the global entry. */
export type EntryProbe = (entryUrl: string, signal: AbortSignal) => Promise<void>;

export interface DigitalOceanDriverOptions {
  topology: FailoverTopology;
  api: DigitalOceanApi;
  entryProbe: EntryProbe;
  /** Polling of the promoted cluster (defaults: every 10 s for 15 min). */
  pollIntervalMs?: number;
  pollTimeoutMs?: number;
  /** A region's own /readyz probe (default: fetch). */
  fetch?: typeof fetch;
  probeTimeoutMs?: number;
}

interface LoadBalancer {
  id: string;
  name: string;
  type?: string;
  target_load_balancer_ids?: string[];
  glb_settings?: {
    target_protocol: string;
    target_port: number;
    region_priorities?: Record<string, number>;
    failover_threshold?: number;
    cdn?: { is_enabled?: boolean };
  };
  domains?: { name: string; is_managed?: boolean; certificate_id?: string }[];
  health_check?: Record<string, unknown>;
  redirect_http_to_https?: boolean;
  http_idle_timeout_seconds?: number;
  project_id?: string;
}

interface Cluster {
  id: string;
  status: string;
  num_nodes: number;
  size: string;
}

export class DigitalOceanDriver implements FailoverDriver {
  readonly name = "digitalocean";
  private readonly t: FailoverTopology;
  private readonly api: DigitalOceanApi;

  constructor(private readonly options: DigitalOceanDriverOptions) {
    this.t = options.topology;
    this.api = options.api;
  }

  vantagePoints(region: string): VantagePoint[] {
    const r = this.t[regionOf(this.t, region)];
    const fetcher = this.options.fetch ?? globalThis.fetch;
    const timeout = this.options.probeTimeoutMs ?? 5000;
    return [
      {
        // From where the controller runs (the other region), over the internet, to the region's own load balancer.
        name: `${region}-readyz`,
        probe: async (signal) => {
          const response = await fetcher(`${r.url}/readyz`, { signal: AbortSignal.any([signal, AbortSignal.timeout(timeout)]) });
          await response.body?.cancel();
          return response.ok;
        },
      },
      {
        // DigitalOcean's uptime probes from four regions: up while any of them sees the region up.
        name: `${region}-uptime-check`,
        probe: async () => {
          const body = await this.api.request<{ state?: { regions?: Record<string, { status?: string }> } }>(
            "GET",
            `/v2/uptime/checks/${r.uptimeCheckId}/state`,
          );
          const statuses = Object.values(body.state?.regions ?? {}).map((s) => s.status);
          if (statuses.length === 0) throw new Error(`uptime check ${r.uptimeCheckId} reports no probe region`);
          return statuses.some((s) => s !== "DOWN");
        },
      },
    ];
  }

  plan(from: string, to: string): StepPlan[] {
    this.direction(from, to);
    const { primary: p, standby: s, glbId, restore } = this.t;
    const glb = `/v2/load_balancers/${glbId}`;
    return [
      {
        step: "fence",
        description: `take ${from}'s load balancer ${p.loadBalancerId} out of the GLB; admit only tag ${FENCE_TAG} to the old primary ${p.databaseId}`,
        requests: [`GET ${glb}`, `PUT ${glb}`, `GET /v2/databases/${p.databaseId}/firewall`, `PUT /v2/databases/${p.databaseId}/firewall`],
      },
      {
        step: "promote",
        description: `promote ${s.databaseName} (${s.databaseId}) in ${to} to a primary cluster and wait until it is online`,
        requests: [
          `GET /v2/databases/${p.databaseId}/replicas/${s.databaseName}`,
          `PUT /v2/databases/${p.databaseId}/replicas/${s.databaseName}/promote`,
          `GET /v2/databases/${s.databaseId}`,
        ],
      },
      {
        step: "switch-entry",
        description: `the GLB sends everything to ${to}'s load balancer ${s.loadBalancerId} (priority ${to}: 1)`,
        requests: [`GET ${glb}`, `PUT ${glb}`],
      },
      {
        step: "restore",
        description: `pool ${restore.pool.name} (${restore.pool.mode}, ${restore.pool.size}) and ${restore.numNodes} node(s) of ${restore.size} on the new primary`,
        requests: [
          `GET /v2/databases/${s.databaseId}/pools/${restore.pool.name}`,
          `POST /v2/databases/${s.databaseId}/pools`,
          `GET /v2/databases/${s.databaseId}`,
          `PUT /v2/databases/${s.databaseId}/resize`,
        ],
      },
      {
        step: "confirm",
        description: `the GLB targets ${to} only, the cluster is online, and ${this.t.entryUrl}/readyz answers 200 (with GOMEET_CONFIRM_TOKEN: a synthetic write)`,
        requests: [`GET ${glb}`, `GET /v2/databases/${s.databaseId}`, `GET ${this.t.entryUrl}/readyz`, `POST ${this.t.entryUrl}/rooms`],
      },
    ];
  }

  async fence(from: string): Promise<void> {
    this.direction(from, this.t.standby.region);
    const lost = this.t.primary;
    await this.updateGlb((lb) => {
      const targets = (lb.target_load_balancer_ids ?? []).filter((id) => id !== lost.loadBalancerId);
      if (targets.length === 0) throw new Error(`GLB ${lb.id}: taking ${lost.region}'s load balancer out would leave it without a target`);
      const priorities = Object.fromEntries(Object.entries(lb.glb_settings?.region_priorities ?? {}).filter(([r]) => r !== lost.region));
      return { targets, priorities };
    });
    const firewall = `/v2/databases/${lost.databaseId}/firewall`;
    const { rules } = await this.api.request<{ rules?: { type: string; value: string }[] }>("GET", firewall);
    if (rules?.length === 1 && rules[0]!.type === "tag" && rules[0]!.value === FENCE_TAG) return;
    await this.api.request("PUT", firewall, {
      rules: [{ type: "tag", value: FENCE_TAG, description: "fenced by the region failover: no client may reach the old primary" }],
    });
  }

  async promote(to: string): Promise<void> {
    this.direction(this.t.primary.region, to);
    const { primary: p, standby: s } = this.t;
    const replica = await this.api.find(`/v2/databases/${p.databaseId}/replicas/${s.databaseName}`);
    if (replica !== undefined) {
      await this.api.request("PUT", `/v2/databases/${p.databaseId}/replicas/${s.databaseName}/promote`);
    } else if ((await this.api.find(`/v2/databases/${s.databaseId}`)) === undefined) {
      throw new Error(`neither the replica ${s.databaseName} of ${p.databaseId} nor a cluster ${s.databaseId} exists: nothing to promote`);
    }
    await this.waitOnline(s.databaseId);
  }

  async switchEntry(to: string): Promise<void> {
    this.direction(this.t.primary.region, to);
    const s = this.t.standby;
    await this.updateGlb(() => ({ targets: [s.loadBalancerId], priorities: { [s.region]: 1 } }));
  }

  async restore(to: string): Promise<void> {
    this.direction(this.t.primary.region, to);
    const { standby: s, restore } = this.t;
    const pool = restore.pool;
    if ((await this.api.find(`/v2/databases/${s.databaseId}/pools/${pool.name}`)) === undefined) {
      await this.api.request("POST", `/v2/databases/${s.databaseId}/pools`, {
        name: pool.name,
        mode: pool.mode,
        size: pool.size,
        db: pool.db,
        user: pool.user,
      });
    }
    const { database } = await this.api.request<{ database: Cluster }>("GET", `/v2/databases/${s.databaseId}`);
    if (database.num_nodes < restore.numNodes) {
      await this.api.request("PUT", `/v2/databases/${s.databaseId}/resize`, { size: restore.size, num_nodes: restore.numNodes });
    }
  }

  async confirm(to: string): Promise<void> {
    this.direction(this.t.primary.region, to);
    const s = this.t.standby;
    const { load_balancer: lb } = await this.api.request<{ load_balancer: LoadBalancer }>("GET", `/v2/load_balancers/${this.t.glbId}`);
    const targets = lb.target_load_balancer_ids ?? [];
    if (targets.length !== 1 || targets[0] !== s.loadBalancerId) {
      throw new Error(`GLB ${lb.id} targets ${JSON.stringify(targets)}; expected only ${to}'s load balancer ${s.loadBalancerId}`);
    }
    const { database } = await this.api.request<{ database: Cluster }>("GET", `/v2/databases/${s.databaseId}`);
    if (database.status !== "online") throw new Error(`the promoted cluster ${s.databaseId} is ${database.status}, not online`);
    await this.options.entryProbe(this.t.entryUrl, AbortSignal.timeout(30_000));
  }

  /** This driver fails over from the topology's primary to its standby, nothing else. */
  private direction(from: string, to: string): void {
    if (from !== this.t.primary.region || to !== this.t.standby.region) {
      throw new Error(
        `the DigitalOcean driver fails over ${this.t.primary.region} -> ${this.t.standby.region} only (asked ${from} -> ${to}); ` +
          "failing back is a rebuild of the old region as a standby, then a failover of the reconciled stack (docs/runbooks.md)",
      );
    }
  }

  /** Reads the GLB, computes the wanted targets and priorities, and writes it back only when they differ. */
  private async updateGlb(want: (lb: LoadBalancer) => { targets: string[]; priorities: Record<string, number> }): Promise<void> {
    const path = `/v2/load_balancers/${this.t.glbId}`;
    const { load_balancer: lb } = await this.api.request<{ load_balancer: LoadBalancer }>("GET", path);
    if (lb.type !== undefined && lb.type !== "GLOBAL") throw new Error(`load balancer ${lb.id} is ${lb.type}, not GLOBAL`);
    if (!lb.glb_settings) throw new Error(`GLB ${lb.id} has no glb_settings`);
    const { targets, priorities } = want(lb);
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (
      same([...(lb.target_load_balancer_ids ?? [])].sort(), [...targets].sort()) &&
      same(lb.glb_settings.region_priorities ?? {}, priorities)
    )
      return;
    await this.api.request("PUT", path, glbUpdateBody(lb, targets, priorities));
  }

  private async waitOnline(clusterId: string): Promise<void> {
    const interval = this.options.pollIntervalMs ?? 10_000;
    const deadline = Date.now() + (this.options.pollTimeoutMs ?? 15 * 60_000);
    let status = "unknown";
    while (Date.now() < deadline) {
      try {
        const { database } = await this.api.request<{ database: Cluster }>("GET", `/v2/databases/${clusterId}`);
        status = database.status;
        if (status === "online") return;
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error; // not a cluster yet: still promoting
        status = "not yet a cluster";
      }
      await new Promise((resolve) => setTimeout(resolve, interval));
    }
    throw new Error(
      `the promoted cluster ${clusterId} is not online after ${Math.round((this.options.pollTimeoutMs ?? 900_000) / 1000)} s (${status})`,
    );
  }
}

/**
 * The PUT body of a GLB: the fields terraform-provider-digitalocean sends for one (buildLoadBalancerRequest in
 * terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f:digitalocean/loadbalancer/resource_loadbalancer.go:
 * no region, forwarding rules or droplets for a GLOBAL one) with the new targets and priorities, the rest as read.
 */
export function glbUpdateBody(lb: LoadBalancer, targets: string[], priorities: Record<string, number>): Record<string, unknown> {
  const settings = lb.glb_settings!;
  return {
    name: lb.name,
    type: "GLOBAL",
    ...(lb.project_id ? { project_id: lb.project_id } : {}),
    target_load_balancer_ids: targets,
    glb_settings: { ...settings, region_priorities: priorities },
    ...(lb.domains
      ? {
          domains: lb.domains.map((d) => ({
            name: d.name,
            is_managed: d.is_managed ?? false,
            ...(d.certificate_id ? { certificate_id: d.certificate_id } : {}),
          })),
        }
      : {}),
    ...(lb.health_check ? { health_check: lb.health_check } : {}),
    ...(lb.redirect_http_to_https !== undefined ? { redirect_http_to_https: lb.redirect_http_to_https } : {}),
    ...(lb.http_idle_timeout_seconds !== undefined ? { http_idle_timeout_seconds: lb.http_idle_timeout_seconds } : {}),
  };
}
