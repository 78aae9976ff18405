/**
 * The real-server harness: each piece starts, does its job, survives the failure it exists to
 * survive, and is gone after stopAll.
 */
import fs from "node:fs";
import net from "node:net";
import { performance } from "node:perf_hooks";
import { Client } from "pg";
import { startBackingServices } from "../../harness/backing-services";
import { startRedisPrimaryProxy } from "../../harness/haproxy";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { nginxConfig, startNginx } from "../../harness/nginx";
import { freePort, isListening } from "../../harness/ports";
import { startPostgresWithReplica, streamingReplicas } from "../../harness/postgres";
import { isAlive, processTree, type ProcessIdentity } from "../../harness/proc-tree";
import { runningProcesses, stopAll, temporaryDirectories, waitFor } from "../../harness/process";
import { demoteTo, promote, redisCommand, redisCommands, redisInfo, startRedisPair, startSentinelHA } from "../../harness/redis";
import { echoOverWebSocket, request, served, startUpstream } from "./upstream-stand-in";

/** Every process the harness has running now, with everything they forked. */
function harnessProcessTrees(): ProcessIdentity[] {
  return runningProcesses().flatMap((p) => processTree(p.pid));
}

/** Everything seen running during the suite, checked after the final stopAll. */
const seen = new Map<number, ProcessIdentity>();
/** Ports that must be closed after the final stopAll. */
const portsLeftOpen: number[] = [];
function remember(): void {
  for (const id of harnessProcessTrees()) seen.set(id.pid, id);
}
afterEach(remember);
afterAll(stopAll);

const report = (line: string): void => {
  process.stdout.write(`[harness] ${line}\n`);
};

async function servedPort(endpoint: { host: string; port: number }): Promise<string | undefined> {
  return (await redisInfo(endpoint, "server", 300)).tcp_port;
}

describe("Redis", () => {
  it("a pair replicates, and roles can be swapped and restored", async () => {
    const pair = await startRedisPair();
    // SET and WAIT on one connection: WAIT waits for that connection's own last write.
    expect(
      await redisCommands(
        pair.primary,
        [
          ["SET", "greeting", "hello"],
          ["WAIT", "1", "2000"],
        ],
        3000,
      ),
    ).toEqual(["OK", 1]);
    expect(await redisCommand(pair.replica, ["GET", "greeting"])).toBe("hello");
    await expect(redisCommand(pair.replica, ["SET", "greeting", "nope"])).rejects.toThrow(/READONLY/);

    await promote(pair.replica);
    await demoteTo(pair.primary, pair.replica);
    expect(
      await redisCommands(
        pair.replica,
        [
          ["SET", "greeting", "swapped"],
          ["WAIT", "1", "2000"],
        ],
        3000,
      ),
    ).toEqual(["OK", 1]);
    expect(await redisCommand(pair.primary, ["GET", "greeting"])).toBe("swapped");

    // A restart keeps the role the harness gave the node (no persistence: it resyncs).
    await pair.primary.restart();
    expect((await redisInfo(pair.primary, "replication")).role).toBe("slave");
    remember();
    await pair.stop();
  });

  it("HAProxy cuts the clients of a demoted primary and routes to the new one", async () => {
    const pair = await startRedisPair();
    const proxy = await startRedisPrimaryProxy([pair.primary, pair.replica]);
    expect(await servedPort(proxy)).toBe(String(pair.primary.port));
    const status = await proxy.serverStatus();
    expect(status[`127.0.0.1:${pair.primary.port}`]?.status).toBe("UP");
    expect(status[`127.0.0.1:${pair.replica.port}`]?.status).toBe("DOWN");

    // A client connected through the endpoint to the primary...
    const client = net.connect(proxy.port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => client.once("connect", resolve).once("error", reject));
    const cut = new Promise<number>((resolve) => client.once("close", () => resolve(performance.now())));
    client.on("error", () => undefined); // a reset is one way of being cut; "close" follows either way

    const began = performance.now();
    await promote(pair.replica);
    await demoteTo(pair.primary, pair.replica);
    // ...is disconnected once HAProxy marks the old primary down (on-marked-down shutdown-sessions).
    const cutAfter = (await cut) - began;
    await waitFor(async () => (await servedPort(proxy)) === String(pair.replica.port), {
      timeoutMs: 5000,
      what: "the endpoint to route to the promoted replica",
    });
    report(`HAProxy: planned switchover cut the demoted primary's clients after ${Math.round(cutAfter)} ms`);
    expect(cutAfter).toBeLessThan(3000);
    remember();
    await Promise.all([proxy.stop(), pair.stop()]);
  });

  it("Sentinel fails over after SIGKILL of the primary and the endpoint follows within seconds", async () => {
    const began = performance.now();
    const ha = await startSentinelHA();
    report(`Sentinel HA (2 nodes, 3 Sentinels, HAProxy) ready in ${Math.round(performance.now() - began)} ms`);
    expect(ha.masterName).toBe("gomeet");
    expect(ha.sentinels).toHaveLength(3);
    expect(await ha.currentPrimary()).toEqual({ host: "127.0.0.1", port: ha.primary.port });
    expect(await servedPort(ha.endpoint)).toBe(String(ha.primary.port));

    expect(
      await redisCommands(
        ha.endpoint,
        [
          ["SET", "acknowledged", "before-failover"],
          ["WAIT", "1", "2000"],
        ],
        3000,
      ),
    ).toEqual(["OK", 1]);
    remember();

    const killedAt = performance.now();
    await ha.primary.process.kill();
    await waitFor(
      async () => {
        if ((await servedPort(ha.endpoint)) !== String(ha.replica.port)) return false;
        return (await redisCommand(ha.endpoint, ["SET", "written", "after-failover"], 300)) === "OK";
      },
      { timeoutMs: 15_000, intervalMs: 50, what: "writes through the endpoint to reach the promoted replica" },
    );
    const failoverMs = performance.now() - killedAt;
    await waitFor(async () => (await ha.currentPrimary()).port === ha.replica.port, {
      timeoutMs: 5000,
      what: "the Sentinels to agree on the new primary",
    });
    const sentinelsAgreeMs = performance.now() - killedAt;
    report(
      `Sentinel failover: endpoint accepted writes on the new primary ${Math.round(failoverMs)} ms after SIGKILL ` +
        `(Sentinels agreed after ${Math.round(sentinelsAgreeMs)} ms)`,
    );
    expect(failoverMs).toBeLessThan(10_000);
    expect(await redisCommand(ha.endpoint, ["GET", "acknowledged"])).toBe("before-failover");

    // The old primary comes back as a replica of the new one, and the endpoint stays where it is.
    await ha.primary.restart();
    expect((await redisInfo(ha.primary, "replication")).master_port).toBe(String(ha.replica.port));
    await waitFor(async () => (await redisCommand(ha.primary, ["GET", "written"])) === "after-failover", {
      timeoutMs: 5000,
      what: "the restarted old primary to resync from the new one",
    });
    expect(await servedPort(ha.endpoint)).toBe(String(ha.replica.port));
    // Fencing: the Sentinels' reconfig script took the old primary out of the endpoint's rotation, so
    // even a moment of `role:master` from it (a node thawed after a hang) cannot draw traffic.
    await waitFor(async () => (await ha.proxy.serverStatus())[`127.0.0.1:${ha.primary.port}`]?.status === "MAINT", {
      timeoutMs: 5000,
      what: "the old primary to be in maintenance on the endpoint",
    });
    expect((await ha.proxy.serverStatus())[`127.0.0.1:${ha.replica.port}`]?.status).toBe("UP");
    remember();
    await ha.stop();
  });
});

describe("PostgreSQL", () => {
  it("a streaming replica receives a write, and the primary can crash and come back", async () => {
    const began = performance.now();
    const pg = await startPostgresWithReplica();
    report(`PostgreSQL primary + streaming replica ready in ${Math.round(performance.now() - began)} ms`);
    expect(pg.primary.url).toBe(`postgres://postgres@127.0.0.1:${pg.primary.port}/gomeet`);
    expect(await streamingReplicas(pg.primary)).toHaveLength(1);
    expect(fs.statSync(pg.primary.dataDir).uid).not.toBe(0);

    const primary = new Client({ connectionString: pg.primary.url });
    await primary.connect();
    await primary.query("CREATE TABLE visits (id int PRIMARY KEY, who text)");
    await primary.query("INSERT INTO visits VALUES (1, 'alice')");
    await primary.end();

    const replica = new Client({ connectionString: pg.replica.url });
    await replica.connect();
    try {
      await waitFor(async () => (await replica.query("SELECT who FROM visits WHERE id = 1")).rows[0]?.who === "alice", {
        timeoutMs: 5000,
        what: "the write to reach the replica",
      });
      await expect(replica.query("INSERT INTO visits VALUES (2, 'bob')")).rejects.toThrow(/read-only transaction/);
    } finally {
      await replica.end();
    }

    remember();
    await pg.primary.kill();
    expect(await isListening(pg.primary.port)).toBe(false);
    await pg.primary.start();
    await waitFor(async () => (await streamingReplicas(pg.primary)).length === 1, {
      timeoutMs: 10_000,
      what: "the replica to stream again from the restarted primary",
    });
    remember();
    await pg.stop();
  });
});

describe("nginx", () => {
  it("has WebSocket headers and an hour-long read timeout for /ws only", () => {
    const config = nginxConfig(8080, [{ host: "127.0.0.1", port: 9000 }], "/tmp/x", {
      wsPath: "/ws",
      maxFails: 3,
      failTimeoutSeconds: 5,
    });
    expect(config).toContain("map $http_upgrade $connection_upgrade { default upgrade; '' close; }");
    expect(config).toMatch(/location \/ws \{[^}]*proxy_set_header Connection \$connection_upgrade;[^}]*proxy_read_timeout 3600s;/);
    expect(config).toMatch(/least_conn;\s+server 127\.0\.0\.1:9000 max_fails=3 fail_timeout=5s;/);
    expect(config).toContain("proxy_next_upstream error timeout http_502;");
    expect(config).not.toContain("http_503"); // the app's 503 (a dependency down) must not eject instances
    expect(config).not.toContain("non_idempotent");
  });

  it("balances HTTP and WebSockets over two upstreams, reloads, and ejects a dead one", async () => {
    const [a, b] = await Promise.all([startUpstream("a"), startUpstream("b")]);
    const lb = await startNginx([a, b].map((u) => ({ host: "127.0.0.1", port: u.port })));
    const wsUrl = lb.url.replace("http:", "ws:") + "/ws";

    const ids = new Set<string>();
    for (let i = 0; i < 6; i++) ids.add(await served(`${lb.url}/rooms`));
    expect(ids).toEqual(new Set(["a", "b"]));
    expect((await request(`${lb.url}/x`)).forwardedFor).toBe("127.0.0.1");
    const echoes = await Promise.all([1, 2, 3, 4].map((n) => echoOverWebSocket(wsUrl, `hi${n}`)));
    expect(new Set(echoes.map((e) => e.split(":")[0]))).toEqual(new Set(["a", "b"]));
    expect(echoes.map((e) => e.split(":")[1]).sort()).toEqual(["hi1", "hi2", "hi3", "hi4"]);

    await lb.reload([{ host: "127.0.0.1", port: a.port }]);
    for (let i = 0; i < 4; i++) expect(await served(`${lb.url}/rooms`)).toBe("a");
    await lb.reload([a, b].map((u) => ({ host: "127.0.0.1", port: u.port })));
    remember();

    // Upstream b dies: nobody sees an error (GETs and POSTs are retried on a), and after
    // max_fails=3 refused connections b is ejected rather than tried on every request.
    await b.close();
    for (let i = 0; i < 20; i++) expect(await served(`${lb.url}/rooms`, i % 4 === 0 ? "POST" : "GET")).toBe("a");
    expect(await echoOverWebSocket(wsUrl, "still")).toBe("a:still");
    const refused = lb.process.logs().match(/Connection refused\) while connecting to upstream/g) ?? [];
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(3);
    expect(lb.process.logs()).toContain("upstream server temporarily disabled");

    remember();
    await lb.stop();
    await a.close();
  });
});

describe("LiveKit stand-in", () => {
  it("answers health like livekit-server, flips, goes away and comes back", async () => {
    const lk = await startLivekitStandIn("livekit-a");
    expect(lk.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(lk.httpUrl).toBe(lk.url.replace("ws:", "http:"));
    expect(lk.apiKey).toMatch(/^API[0-9a-f]{12}$/);
    expect(lk.apiSecret.length).toBeGreaterThanOrEqual(32);
    const other = await startLivekitStandIn("livekit-b");
    expect(other.apiSecret).not.toBe(lk.apiSecret);

    const health = async (): Promise<[number, string]> => {
      const res = await fetch(`${lk.httpUrl}/`);
      return [res.status, await res.text()];
    };
    expect(await health()).toEqual([200, "OK"]);
    lk.setHealthy(false);
    const [status, body] = await health();
    expect(status).toBe(406);
    expect(body).toMatch(/^Not Ready/);
    lk.setHealthy(true);
    expect(await health()).toEqual([200, "OK"]);
    expect(lk.healthChecks()).toBe(3);

    await lk.stop();
    await expect(fetch(`${lk.httpUrl}/`)).rejects.toThrow();
    await lk.start();
    expect(await health()).toEqual([200, "OK"]);
    // Left running on purpose: the final stopAll must close them.
    portsLeftOpen.push(...[lk, other].map((l) => Number(new URL(l.httpUrl).port)));
  });
});

describe("the local cluster's backing services", () => {
  // The cluster's 15 s start-up budget is a figure `npm run cluster` and the drills report, not a timed assertion.
  it("start in parallel and report how long each took", async () => {
    const appPorts = await Promise.all([freePort(), freePort(), freePort()]);
    const began = performance.now();
    const [services, lb] = await Promise.all([startBackingServices(), startNginx(appPorts.map((port) => ({ host: "127.0.0.1", port })))]);
    const totalMs = performance.now() - began;
    report(
      `backing services + nginx ready in ${Math.round(totalMs)} ms ` +
        `(redis+sentinel+haproxy ${services.startupMs.redis} ms, postgres (formation, endpoint, pool, replica) ${services.startupMs.postgres} ms, ` +
        `livekit stand-ins ${services.startupMs.livekit} ms)`,
    );
    expect(services.startupMs.redis).toBeGreaterThan(0);
    expect(services.livekit.map((l) => l.name)).toEqual(["livekit-a", "livekit-b"]);
    expect(await servedPort(services.redis.endpoint)).toBe(String(services.redis.primary.port));
    expect(lb.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Left running on purpose: the next test proves stopAll ends all of it.
    portsLeftOpen.push(
      lb.port,
      services.redis.endpoint.port,
      services.postgres.pool.port,
      services.postgres.endpoint.port,
      services.postgres.formation.monitor.port,
      ...services.postgres.formation.nodes.map((n) => n.port),
      services.postgres.replica.port,
      ...services.redis.sentinels.map((s) => s.port),
      ...services.livekit.map((l) => Number(new URL(l.httpUrl).port)),
    );
  }, 180_000);
});

describe("stopAll", () => {
  it("leaves no process, port or temp dir behind", async () => {
    remember();
    expect(runningProcesses().length).toBeGreaterThanOrEqual(13); // 2 redis, 3 sentinels, 2 haproxy, 3 pg_autoctl, pgbouncer, replica, nginx
    const dirs = temporaryDirectories();
    expect(dirs.length).toBeGreaterThan(0);
    for (const port of portsLeftOpen) expect(await isListening(port)).toBe(true);

    await stopAll();

    expect(runningProcesses()).toEqual([]);
    expect([...seen.values()].filter(isAlive).map((s) => s.pid)).toEqual([]);
    for (const port of portsLeftOpen) expect(await isListening(port)).toBe(false);
    expect(dirs.filter((dir) => fs.existsSync(dir))).toEqual([]);
    report(`stopAll: ${seen.size} processes seen during the suite, none left; ${dirs.length} temp dirs removed`);
  });
});
