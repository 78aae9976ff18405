/**
 * A real Prometheus (the Debian binary) scraping the local app instances with the service's own alert rules
 * (infra/alert-rules.ts, the ones the stack's PrometheusRule holds), on short intervals: scrape and evaluation
 * every second, every `for:` duration multiplied by one setting (LOCAL_ALERT_FOR_SCALE), so a drill sees an
 * alert fire in seconds instead of minutes. Range windows (`[5m]`) stay as written.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { stringify } from "yaml";
import { APP_JOB, rulesFileYaml } from "../infra/alert-rules";
import { findBinary } from "./binaries";
import { freePort } from "./ports";
import { spawnManaged, tempDir, waitForReady, type ManagedProcess } from "./process";

/** The one setting: every rule's `for:` times this (1 minute → 3 s, 5 minutes → 15 s). */
export const LOCAL_ALERT_FOR_SCALE = 0.05;
/** Scrape and rule evaluation interval, in seconds. */
export const LOCAL_SCRAPE_SECONDS = 1;

export interface ScrapeTarget {
  host: string;
  port: number;
  /** Shown as the target's `app` label (e.g. app-1): the scrape's own `instance` label is host:port. */
  name: string;
}

export interface PrometheusOptions {
  targets: ScrapeTarget[];
  /** Ready instances below this raise GoMeetReplicasBelowFloor (default: the number of targets). */
  haFloor?: number;
  /** Fan-out p99 target in seconds (default 0.1, the stack's 100 ms). */
  fanoutP99Seconds?: number;
  /** Multiplies every `for:` (default LOCAL_ALERT_FOR_SCALE). */
  forScale?: number;
}

/** One alert as /api/v1/alerts reports it. */
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: "pending" | "firing";
  activeAt: string;
  value: string;
}

export interface LocalPrometheus {
  url: string;
  port: number;
  process: ManagedProcess;
  /** Pending and firing alerts now. */
  alerts(): Promise<ActiveAlert[]>;
  /**
   * Resolves once every target has been scraped up and no alert fires (what the targets' start-up raised has
   * resolved). Prometheus hands new targets to its scrapers only every 5 s, while rules run from the start: until
   * the first scrapes, `absent(up == 1)` holds and GoMeetNoInstanceUp fires. Rejects after timeoutMs, naming what is left.
   */
  settled(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** The scrape config: one job named as in the stack, every instance a static target. */
export function prometheusConfig(targets: readonly ScrapeTarget[], rulesFile: string): string {
  if (targets.length === 0) throw new Error("startPrometheus: at least one scrape target is required");
  for (const t of targets) {
    if (!/^[A-Za-z0-9.-]+$/.test(t.host) || !Number.isInteger(t.port) || t.port < 1 || t.port > 65535) {
      throw new Error(`startPrometheus: invalid scrape target ${JSON.stringify(t)}`);
    }
  }
  const interval = `${LOCAL_SCRAPE_SECONDS}s`;
  return stringify({
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    rule_files: [rulesFile],
    scrape_configs: [
      {
        job_name: APP_JOB,
        metrics_path: "/metrics",
        static_configs: targets.map((t) => ({ targets: [`${t.host}:${t.port}`], labels: { app: t.name } })),
      },
    ],
  });
}

const ALERTS_TIMEOUT_MS = 10_000;

async function fetchJson(url: string, timeoutMs: number): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
  return response.json();
}

/** Starts Prometheus on a free loopback port with a temporary TSDB; resolves once it is ready and has loaded the rules. */
export async function startPrometheus(options: PrometheusOptions): Promise<LocalPrometheus> {
  const dir = await tempDir("prometheus");
  const rulesFile = path.join(dir, "gomeet-rules.yml");
  const configFile = path.join(dir, "prometheus.yml");
  await fs.writeFile(
    rulesFile,
    rulesFileYaml({
      haFloor: options.haFloor ?? options.targets.length,
      fanoutP99Seconds: options.fanoutP99Seconds ?? 0.1,
      forScale: options.forScale ?? LOCAL_ALERT_FOR_SCALE,
    }),
  );
  await fs.writeFile(configFile, prometheusConfig(options.targets, rulesFile));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const process = spawnManaged("prometheus", findBinary("prometheus"), [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--storage.tsdb.retention.time=2h",
    "--log.level=warn",
  ]);
  await waitForReady(
    process,
    async () => {
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (!ready.ok) return false;
      const rules = (await fetchJson(`${url}/api/v1/rules`, 1000)) as { data: { groups: unknown[] } };
      return rules.data.groups.length > 0;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: `Prometheus on ${url} to be ready with the rules loaded` },
  );
  // 10 s: on a loaded 2-core machine a live Prometheus has been seen taking over 2 s to answer; the drills fail on a
  // failed alert poll, so only a Prometheus that does not answer at all should fail one.
  const alerts = async (): Promise<ActiveAlert[]> =>
    ((await fetchJson(`${url}/api/v1/alerts`, ALERTS_TIMEOUT_MS)) as { data: { alerts: ActiveAlert[] } }).data.alerts;
  const settled = async (timeoutMs = 30_000): Promise<void> => {
    let left = "";
    await waitForReady(
      process,
      async () => {
        const targets = (await fetchJson(`${url}/api/v1/targets`, 2000)) as {
          data: { activeTargets: Array<{ scrapeUrl: string; health: string }> };
        };
        const down = targets.data.activeTargets.filter((t) => t.health !== "up").map((t) => `${t.scrapeUrl} ${t.health}`);
        const firing = (await alerts()).filter((a) => a.state === "firing").map((a) => a.labels.alertname ?? "unnamed");
        const scraped = targets.data.activeTargets.length === options.targets.length;
        left = [...(scraped ? [] : ["targets not discovered yet"]), ...down, ...firing.map((name) => `${name} firing`)].join(", ");
        return left === "";
      },
      { timeoutMs, intervalMs: 250, what: "every target scraped up and no alert firing" },
    ).catch((error: Error) => {
      throw new Error(`${error.message.split("\n")[0]} (left: ${left || "unknown"})\n${error.message.split("\n").slice(1).join("\n")}`);
    });
  };
  return { url, port, process, alerts, settled, stop: () => process.stop() };
}
