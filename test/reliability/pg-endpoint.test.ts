/**
 * The PostgreSQL endpoint's health check against real servers: HAProxy routes only to a server that
 * is out of recovery and not read-only — a standby never gets traffic, and neither does a promoted
 * node that pg_auto_failover still holds read-only (default_transaction_read_only) while it fences
 * the old primary. Also the read-only replica's rebuild (for a replica that cannot follow a promotion).
 */
import { Client } from "pg";
import { startPgPrimaryEndpoint, type PgPrimaryEndpoint } from "../../harness/pg-endpoint";
import { DATABASE, rebuildReplica, startPostgresWithReplica, streamingReplicas, type PgPair } from "../../harness/postgres";
import { stopAll, waitFor } from "../../harness/process";

let pg: PgPair;
let endpoint: PgPrimaryEndpoint;

async function sql<T extends object>(url: string, text: string): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

const key = (port: number): string => `127.0.0.1:${port}`;

beforeAll(async () => {
  pg = await startPostgresWithReplica();
  endpoint = await startPgPrimaryEndpoint(
    [
      { host: "127.0.0.1", port: pg.primary.port },
      { host: "127.0.0.1", port: pg.replica.port },
    ],
    DATABASE,
  );
}, 60_000);

afterAll(async () => {
  await stopAll();
});

test("only the writable primary is up: the standby fails the check, every connection reaches the primary", async () => {
  const status = await endpoint.serverStatus();
  expect(status[key(pg.primary.port)]).toEqual({ status: "UP", check: "L7OK" });
  expect(status[key(pg.replica.port)]?.status).toBe("DOWN");
  for (let i = 0; i < 5; i++) {
    const [row] = await sql<{ port: number; recovery: boolean }>(
      endpoint.url,
      "SELECT inet_server_port() AS port, pg_is_in_recovery() AS recovery",
    );
    expect(row).toEqual({ port: pg.primary.port, recovery: false });
  }
});

test("a primary that is out of recovery but read-only (a promotion not yet cleared to take writes) gets no traffic", async () => {
  await sql(pg.primary.url, "ALTER SYSTEM SET default_transaction_read_only = on");
  await sql(pg.primary.url, "SELECT pg_reload_conf()");
  try {
    await waitFor(async () => (await endpoint.serverStatus())[key(pg.primary.port)]?.status === "DOWN", {
      timeoutMs: 5000,
      what: "the read-only primary to be marked down",
    });
    await expect(sql(endpoint.url, "SELECT 1")).rejects.toThrow();
  } finally {
    await sql(pg.primary.url, "ALTER SYSTEM RESET default_transaction_read_only");
    await sql(pg.primary.url, "SELECT pg_reload_conf()");
  }
  await waitFor(async () => (await endpoint.serverStatus())[key(pg.primary.port)]?.status === "UP", {
    timeoutMs: 5000,
    what: "the primary to be up again",
  });
  expect((await sql<{ ok: number }>(endpoint.url, "SELECT 1 AS ok"))[0]?.ok).toBe(1);
});

test("maint takes a server out and cuts its sessions; ready puts it back", async () => {
  const held = new Client({ connectionString: endpoint.url });
  held.on("error", () => undefined);
  await held.connect();
  await endpoint.setServerState({ host: "127.0.0.1", port: pg.primary.port }, "maint");
  try {
    await expect(held.query("SELECT 1")).rejects.toThrow();
    await expect(sql(endpoint.url, "SELECT 1")).rejects.toThrow();
  } finally {
    await held.end().catch(() => undefined);
    await endpoint.setServerState({ host: "127.0.0.1", port: pg.primary.port }, "ready");
  }
  await waitFor(async () => (await sql<{ ok: number }>(endpoint.url, "SELECT 1 AS ok").catch(() => []))[0]?.ok === 1, {
    timeoutMs: 5000,
    what: "the endpoint to serve again",
  });
});

test("a replica rebuilt from the primary comes back at the same address, streaming, with the primary's data", async () => {
  await sql(pg.primary.url, "CREATE TABLE rebuilt_marker (id int PRIMARY KEY)");
  await sql(pg.primary.url, "INSERT INTO rebuilt_marker VALUES (1)");
  const before = pg.replica.process.pid;
  await rebuildReplica(pg.replica, pg.primary);
  expect(pg.replica.process.pid).not.toBe(before);
  expect(await streamingReplicas(pg.primary)).toContain(`replica_${pg.replica.port}`);
  expect(await sql(pg.replica.url, "SELECT id FROM rebuilt_marker")).toEqual([{ id: 1 }]);
}, 60_000);
