/**
 * The failover core's local driver (app/src/failover/types.ts): the two-region cluster on loopback.
 *
 *   vantage points  the global endpoint's own health check of the region (HAProxy `show stat`), and a probe of the
 *                   region's load balancer `/readyz` from the standby side (the controller's process): independent views
 *   fence           the global endpoint takes the region out for good (maintenance, sessions cut, `disabled` in its
 *                   configuration), and the region is recorded fenced: its database endpoint, if it ever starts again,
 *                   starts with every server disabled (harness/region/region-a-restart.ts), so its apps reach no
 *                   writable database. If the region's database endpoint still answers, its servers go to maintenance now.
 *   promote         pg_promote() on the standby region's PostgreSQL (skipped when it already takes writes)
 *   switch-entry    the global endpoint puts the standby region in rotation and waits until it serves
 *   restore         nothing locally (DigitalOcean: the pool and a standby node on the new primary; see runbooks)
 *   confirm         a room created (201) and a WebSocket join answered with a welcome, through the global endpoint
 * Every step is idempotent.
 */
import { Client } from "pg";
import WebSocket from "ws";
import type { FailoverDriver, StepPlan, VantagePoint } from "../../app/src/failover/types";
import { signUserToken } from "../tokens";
import type { GlobalEndpoint } from "./global-endpoint";

export interface LocalRegion {
  name: string;
  /** The regional load balancer. */
  url: string;
  /** A direct connection to the PostgreSQL node the region's apps write to (the standby region: its read-only node). */
  databaseUrl: string;
  /** Puts the region's database endpoint servers in maintenance now, if it answers (best effort: a lost region does not). */
  fenceDatabase?(): Promise<void>;
}

export interface LocalDriverOptions {
  global: GlobalEndpoint;
  regions: readonly LocalRegion[];
  /** AUTH_JWT_SECRET of the apps (the confirm step signs a token). */
  authSecret: string;
  /** Called once a region is fenced (the cluster records it, so a restarted region stays fenced). */
  onFenced?(region: string): void;
  /** How long confirm keeps trying (default 20 s). */
  confirmTimeoutMs?: number;
}

const PROBE_PATH = "/readyz";

async function sql<T extends object>(url: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000, query_timeout: 65_000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Resolves once a WebSocket join of `room` through `baseUrl` is answered with a welcome frame. */
function joinOnce(baseUrl: string, room: string, token: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const url = `${baseUrl.replace(/^http/, "ws")}/ws?room=${encodeURIComponent(room)}&access_token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`no welcome within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString("utf8")) as { type?: string };
      if (frame.type !== "welcome") return;
      clearTimeout(timer);
      ws.close();
      resolve();
    });
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`WebSocket upgrade answered ${res.statusCode ?? "?"}`));
      ws.terminate();
    });
    ws.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export class LocalFailoverDriver implements FailoverDriver {
  readonly name = "local";

  constructor(private readonly options: LocalDriverOptions) {}

  private region(name: string): LocalRegion {
    const region = this.options.regions.find((r) => r.name === name);
    if (region === undefined)
      throw new Error(`local driver: no region "${name}" (regions: ${this.options.regions.map((r) => r.name).join(", ")})`);
    return region;
  }

  vantagePoints(name: string): VantagePoint[] {
    const region = this.region(name);
    const { global } = this.options;
    return [
      {
        name: "global-endpoint-health-check",
        probe: async () => (await global.serverStatus())[name]?.status.startsWith("UP") === true,
      },
      {
        name: "standby-region-probe",
        probe: async (signal) => (await fetch(`${region.url}${PROBE_PATH}`, { signal })).status === 200,
      },
    ];
  }

  plan(from: string, to: string): StepPlan[] {
    this.region(from);
    const b = this.region(to);
    const global = this.options.global.url;
    return [
      {
        step: "fence",
        description: `take region ${from} out of the global endpoint for good and record it fenced (its database endpoint starts disabled)`,
        requests: [
          `haproxy ${global}: set server regions/${from} state maint`,
          `haproxy ${global}: shutdown sessions server regions/${from}`,
        ],
      },
      {
        step: "promote",
        description: `promote region ${to}'s PostgreSQL`,
        requests: [`${new URL(b.databaseUrl).host}: SELECT pg_promote(true, 60)`],
      },
      {
        step: "switch-entry",
        description: `the global endpoint serves from region ${to}`,
        requests: [`haproxy ${global}: set server regions/${to} state ready`],
      },
      { step: "restore", description: "nothing locally (DigitalOcean: the pool and a standby node on the new primary)", requests: [] },
      {
        step: "confirm",
        description: `a room created and a WebSocket join through ${global}`,
        requests: [`POST ${global}/rooms`, `GET ${global.replace(/^http/, "ws")}/ws?room=<id>`],
      },
    ];
  }

  async fence(from: string): Promise<void> {
    const region = this.region(from);
    await this.options.global.fence(from);
    this.options.onFenced?.(from);
    await region.fenceDatabase?.().catch(() => undefined);
  }

  async promote(to: string): Promise<void> {
    const { databaseUrl } = this.region(to);
    const [state] = await sql<{ recovery: boolean }>(databaseUrl, "SELECT pg_is_in_recovery() AS recovery");
    if (state?.recovery !== true) return;
    const [promoted] = await sql<{ promoted: boolean }>(databaseUrl, "SELECT pg_promote(true, 60) AS promoted");
    if (promoted?.promoted !== true) throw new Error(`pg_promote() on ${new URL(databaseUrl).host} did not finish within 60 s`);
  }

  async switchEntry(to: string): Promise<void> {
    const { global } = this.options;
    await global.enable(to);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const status = (await global.serverStatus())[to]?.status ?? "";
      if (status.startsWith("UP")) return;
      if (Date.now() > deadline) throw new Error(`the global endpoint does not see region ${to} up (status ${status || "unknown"})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async restore(): Promise<void> {
    // Locally there is no pool or standby node to recreate: region b runs one PostgreSQL server.
  }

  async confirm(): Promise<void> {
    const base = this.options.global.url;
    const token = await signUserToken(this.options.authSecret, "failover-confirm", { name: "Failover confirm", expiresInSeconds: 300 });
    const deadline = Date.now() + (this.options.confirmTimeoutMs ?? 20_000);
    let last = "";
    for (;;) {
      try {
        const response = await fetch(`${base}/rooms`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ name: "failover confirm" }),
          signal: AbortSignal.timeout(3000),
        });
        const body = (await response.json()) as { id?: string; error?: { code?: string } };
        if (response.status !== 201 || body.id === undefined)
          throw new Error(`POST /rooms answered ${response.status} ${body.error?.code ?? ""}`);
        await joinOnce(base, body.id, token, 3000);
        return;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline) throw new Error(`no write and WebSocket join through ${base}: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
