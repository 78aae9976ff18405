/**
 * The local cluster's Prometheus (harness/prometheus.ts) with the service's rules, against two stand-in
 * targets on loopback: both scraped, nothing firing while they answer; one gone, GoMeetInstanceDown fires
 * within seconds (`for:` scaled) and the drills' AlertWatch times it from the fault.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { prometheusConfig, startPrometheus, type LocalPrometheus } from "../../harness/prometheus";
import { stopAll } from "../../harness/process";
import { AlertWatch } from "../../drills/alerts";

/** A target that serves what a healthy app instance reports about itself. */
async function standIn(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    res.end('gomeet_ready 1\ngomeet_readiness_status{status="healthy"} 1\ngomeet_redis_recycles_total 0\n');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

let prometheus: LocalPrometheus | undefined;
const servers: http.Server[] = [];
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await stopAll();
});

test("the config names one job `gomeet` with every instance as a target, and refuses a bad target", () => {
  const text = prometheusConfig([{ host: "127.0.0.1", port: 8080, name: "app-1" }], "/tmp/rules.yml");
  expect(text).toContain("job_name: gomeet");
  expect(text).toContain("127.0.0.1:8080");
  expect(() => prometheusConfig([], "r.yml")).toThrow("at least one scrape target");
  expect(() => prometheusConfig([{ host: "a b", port: 1, name: "x" }], "r.yml")).toThrow(/invalid scrape target/);
});

test("a target that stops answering raises GoMeetInstanceDown within seconds; a healthy pair raises nothing", async () => {
  const [a, b] = [await standIn(), await standIn()];
  servers.push(a.server, b.server);
  prometheus = await startPrometheus({
    targets: [
      { host: "127.0.0.1", port: a.port, name: "app-1" },
      { host: "127.0.0.1", port: b.port, name: "app-2" },
    ],
  });
  const p = prometheus;
  await p.settled(); // both scraped up, and GoMeetNoInstanceUp (true until the first scrapes) resolved
  await new Promise((resolve) => setTimeout(resolve, 4000)); // longer than the scaled for: of 3 s
  expect((await p.alerts()).filter((alert) => alert.state === "firing")).toEqual([]);

  const watch = await AlertWatch.start(p);
  const faultAt = Date.now();
  a.server.closeAllConnections();
  await new Promise((resolve) => a.server.close(resolve));
  const firedAt = await watch.waitFiring("GoMeetInstanceDown", 30_000);
  await watch.stop();
  expect(firedAt).toBeDefined();
  const fired = watch.firedSince(faultAt);
  process.stdout.write(`[local-prometheus] ${fired.map((f) => `${f.name} after ${f.firedAfterSeconds} s`).join(", ")}\n`);
  expect(fired[0]).toMatchObject({ name: "GoMeetInstanceDown" });
  expect(fired[0]!.firedAfterSeconds).toBeGreaterThan(0);
  expect(fired[0]!.firedAfterSeconds).toBeLessThan(30);
  const down = (await p.alerts()).find((alert) => alert.labels.alertname === "GoMeetInstanceDown");
  expect(down?.labels).toMatchObject({ job: "gomeet", app: "app-1", instance: `127.0.0.1:${a.port}`, severity: "critical" });
}, 90_000);
