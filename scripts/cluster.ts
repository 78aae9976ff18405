/**
 * `npm run cluster [-- --json] [--allowed-origins <origin,...>] [--regions 2 [--region-failover-after <s>]]`: the
 * production topology on 127.0.0.1 (see harness/cluster/cluster.ts); `--allowed-origins` sets every instance's
 * CORS_ALLOWED_ORIGINS. `--regions 2` adds a standby region, a global endpoint and the failover controller
 * (harness/region/two-regions.ts); the region is declared lost after `--region-failover-after` seconds (default 5).
 *
 * Once everything is ready it prints one JSON line on stdout (--json) or a readable summary, then
 * runs until SIGINT/SIGTERM, when it stops every process it started and removes its temporary
 * directories. While it runs, lines on stdin are commands: `status`, `kill|stop|start|pause|resume <piece>`.
 * Progress goes to stderr. Exit 0 after a signal, 1 if the cluster could not start (e.g. a missing
 * binary, named with its Debian package), 2 on bad arguments.
 */
import readline from "node:readline";
import { parseArgs } from "node:util";
import { parseOrigin } from "../app/src/config";
import { stopAll } from "../harness/process";
import { startCluster, type Cluster } from "../harness/cluster/cluster";
import { clusterPieces, ControlError, runControlCommand } from "../harness/cluster/control";
import { clusterSummary, formatSummary } from "../harness/cluster/summary";
import { formatTwoRegionSummary, twoRegionSummary } from "../harness/region/summary";
import { DEFAULT_FAILOVER_AFTER_SECONDS, startTwoRegions, type TwoRegionCluster } from "../harness/region/two-regions";
import { processTree, signalAll } from "../harness/proc-tree";

const USAGE =
  "usage: npm run cluster [-- --json] [--allowed-origins <origin,...>] [--regions 1|2] [--region-failover-after <seconds>]   (stop with Ctrl-C / SIGTERM)";

interface Options {
  json: boolean;
  allowedOrigins: string[];
  regions: 1 | 2;
  failoverAfterSeconds: number;
}

function parseOptions(argv: string[]): Options {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
        "allowed-origins": { type: "string", default: "" },
        regions: { type: "string", default: "1" },
        "region-failover-after": { type: "string" },
      },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const items = values["allowed-origins"]
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    const allowedOrigins = items.map((item) => {
      try {
        return parseOrigin(item);
      } catch (error) {
        throw new Error(`--allowed-origins: ${(error as Error).message}`);
      }
    });
    if (values.regions !== "1" && values.regions !== "2") throw new Error(`--regions must be 1 or 2, got "${values.regions}"`);
    const after = values["region-failover-after"];
    if (after !== undefined && values.regions !== "2") throw new Error("--region-failover-after needs --regions 2");
    const failoverAfterSeconds = after === undefined ? DEFAULT_FAILOVER_AFTER_SECONDS : Number(after);
    if (!Number.isFinite(failoverAfterSeconds) || failoverAfterSeconds <= 0 || failoverAfterSeconds > 3600)
      throw new Error(`--region-failover-after must be a number of seconds above 0 and at most 3600, got "${after ?? ""}"`);
    return {
      json: values.json,
      allowedOrigins: [...new Set(allowedOrigins)],
      regions: values.regions === "2" ? 2 : 1,
      failoverAfterSeconds,
    };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const log = (line: string): void => void process.stderr.write(`[cluster] ${line}\n`);

async function main(): Promise<void> {
  const { json, allowedOrigins, regions, failoverAfterSeconds } = parseOptions(process.argv.slice(2));
  let cluster: Cluster | undefined;
  let two: TwoRegionCluster | undefined;
  let shuttingDown: Promise<void> | undefined;

  const shutdown = (signal: string): Promise<void> =>
    (shuttingDown ??= (async () => {
      log(`${signal}: stopping every process`);
      const began = Date.now();
      try {
        // During start-up there is no cluster yet: stopAll stops what has started, and the exit
        // hook SIGKILLs anything spawned after it and removes its directories.
        await (two ?? cluster)?.stop();
        await stopAll();
        log(`stopped in ${((Date.now() - began) / 1000).toFixed(1)} s`);
        process.exit(0);
      } catch (error) {
        log(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      }
    })());
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      // A second signal while stopping: give up waiting (the harness's exit hook SIGKILLs the rest).
      if (shuttingDown !== undefined) process.exit(130);
      void shutdown(signal);
    });
  }

  try {
    if (regions === 2) {
      two = await startTwoRegions({ progress: log, allowedOrigins, failoverAfterSeconds });
      cluster = two.primary;
    } else cluster = await startCluster({ progress: log, allowedOrigins });
  } catch (error) {
    if (shuttingDown !== undefined) return; // stopped by a signal while starting
    log(`could not start: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll().catch(() => undefined);
    process.exit(1);
  }
  if (shuttingDown !== undefined) return;

  if (two !== undefined) {
    const summary = await twoRegionSummary(two);
    process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatTwoRegionSummary(summary));
  } else {
    const summary = await clusterSummary(cluster);
    process.stdout.write(json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  }

  const pieces = clusterPieces(cluster);
  if (two !== undefined) {
    const regionsCluster = two;
    // "kill region-a": every process of region a at once (SIGKILL), as the region-loss drill does; "start region-a" brings
    // it back fenced after the failover.
    pieces.set("region-a", {
      describe: async () =>
        `${regionsCluster.regionPids("a").length} processes; failover controller ${regionsCluster.controller.currentState}`,
      kill: async () => {
        for (const pid of regionsCluster.regionPids("a")) signalAll(processTree(pid), "SIGKILL");
      },
      stop: async () => {
        for (const pid of regionsCluster.regionPids("a")) signalAll(processTree(pid), "SIGKILL");
      },
      start: async () => void (await regionsCluster.restartPrimaryRegion()),
      process: async () => undefined,
    });
  }
  const prompt = readline.createInterface({ input: process.stdin, terminal: false });
  let queue = Promise.resolve();
  prompt.on("line", (line) => {
    queue = queue.then(async () => {
      try {
        const answer = await runControlCommand(pieces, line);
        if (answer !== "") process.stderr.write(`${answer}\n`);
      } catch (error) {
        process.stderr.write(
          `${error instanceof ControlError ? error.message : `failed: ${error instanceof Error ? error.message : String(error)}`}\n`,
        );
      }
    });
  });
  // stdin closing (e.g. </dev/null) does not stop the cluster: only a signal does.
  setInterval(() => undefined, 60_000);
}

void main();
