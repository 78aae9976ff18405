/**
 * The region failover controller's process in the standby region's cluster (infra/failover-controller.ts):
 * `node dist/failover/controller-main.js`. Reads FAILOVER_DIGITALOCEAN (the topology), DO_API_TOKEN, FAILOVER_JOURNAL
 * (a file on its volume) and CONTROLLER_PORT; serves /metrics and /healthz there; watches the primary region and, in
 * automatic mode, fails over with the DigitalOcean driver (controller.ts, digitalocean-driver.ts).
 */
import * as http from "node:http";
import { Registry } from "prom-client";
import { createLogger } from "../logger";
import { FailoverController } from "./controller";
import { DigitalOceanApi } from "./digitalocean-api";
import { DigitalOceanDriver } from "./digitalocean-driver";
import { parseTopology } from "./digitalocean-topology";
import { httpEntryProbe } from "./entry-probe";
import { FileJournal } from "./journal";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`failover controller: ${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const log = createLogger(process.env.LOG_LEVEL ?? "info", process.env.HOSTNAME ?? "failover-controller");
  const topology = parseTopology(required("FAILOVER_DIGITALOCEAN"), "FAILOVER_DIGITALOCEAN");
  const api = new DigitalOceanApi({ baseUrl: process.env.DO_API_URL ?? "https://api.digitalocean.com", token: required("DO_API_TOKEN") });
  const driver = new DigitalOceanDriver({ topology, api, entryProbe: httpEntryProbe({ token: process.env.GOMEET_CONFIRM_TOKEN }) });
  const registry = new Registry();
  const controller = new FailoverController({
    mode: topology.mode,
    from: topology.primary.region,
    to: topology.standby.region,
    driver,
    journal: new FileJournal(required("FAILOVER_JOURNAL")),
    detector: {
      windowMs: topology.detection.windowSeconds * 1000,
      intervalMs: topology.detection.intervalSeconds * 1000,
      probeTimeoutMs: Math.min(10_000, topology.detection.intervalSeconds * 1000),
    },
    registry,
    log,
  });
  const port = Number(process.env.CONTROLLER_PORT ?? 9464);
  const server = http.createServer((req, res) => {
    if (req.url === "/healthz") return void res.writeHead(200).end("ok");
    if (req.url !== "/metrics") return void res.writeHead(404).end();
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500).end(String(error)),
    );
  });
  server.listen(port);
  await controller.start();
  log.info({ from: topology.primary.region, to: topology.standby.region, mode: topology.mode, port }, "failover controller watching");
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => void controller.stop().finally(() => server.close(() => process.exit(0))));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
