/**
 * `npm run drills [-- --json] [--only <name,...>] [--inputs <n>] [--markdown] [--report <dir>]`: starts the local
 * cluster, runs the failure drills one after the other under load, stops everything, and prints
 * the results (a table, its markdown form, or `{"drills": [...]}`). Progress goes to stderr. With --report,
 * it also writes each drill's SVG timeline and an index.html into <dir>.
 * Exit 0 if every drill passed, 1 if one failed or the cluster could not start, 2 on bad arguments.
 */
import { parseArgs } from "node:util";
import { stopAll } from "../harness/process";
import { startCluster, type Cluster } from "../harness/cluster/cluster";
import { drillsDocument, formatMarkdownTable, formatTable } from "../drills/report";
import { drillByName, runDrills, runRegionDrill } from "../drills/runner";
import { startTwoRegions, type TwoRegionCluster } from "../harness/region/two-regions";
import { writeDrillReport } from "../drills/report-files";
import { DRILL_NAMES, FULL_SCALE, TWO_REGION_DRILLS, type DrillName, type DrillResult, type DrillScale } from "../drills/types";

const USAGE = `usage: npm run drills [-- --json] [--only <name,...>] [--inputs <n>] [--markdown] [--report <dir>]
  drills: ${DRILL_NAMES.join(", ")}
  --report: write each drill's SVG timeline and an index.html into <dir>
  --inputs: malformed inputs in bad-input (default ${FULL_SCALE.badInputs})`;

interface Options {
  json: boolean;
  markdown: boolean;
  report?: string;
  drills: DrillName[];
  scale: DrillScale;
}

function usageError(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        json: { type: "boolean", default: false },
        markdown: { type: "boolean", default: false },
        only: { type: "string" },
        inputs: { type: "string" },
        report: { type: "string" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    usageError((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const drills = (values.only
    ?.split(",")
    .map((n) => n.trim())
    .filter((n) => n !== "") ?? [...DRILL_NAMES]) as DrillName[];
  const unknown = drills.filter((name) => !(DRILL_NAMES as readonly string[]).includes(name));
  if (unknown.length > 0 || drills.length === 0)
    usageError(`--only: unknown drill(s) ${unknown.map((n) => `"${n}"`).join(", ") || "(none given)"}`);
  const scale = { ...FULL_SCALE };
  if (values.inputs !== undefined) {
    if (!/^\d+$/.test(values.inputs) || Number(values.inputs) < 100)
      usageError(`--inputs must be an integer of at least 100, got "${values.inputs}"`);
    scale.badInputs = Number(values.inputs);
  }
  if (values.json && values.markdown) usageError("--json and --markdown exclude each other");
  if (values.report === "") usageError("--report takes a directory");
  return { json: values.json, markdown: values.markdown, report: values.report, drills, scale };
}

const progress = (line: string): void => void process.stderr.write(`[drills] ${line}\n`);

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  let cluster: Cluster | undefined;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping the cluster`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  const began = Date.now();
  const single = options.drills.filter((name) => !TWO_REGION_DRILLS.includes(name));
  const twoRegion = options.drills.filter((name) => TWO_REGION_DRILLS.includes(name));
  const results: DrillResult[] = [];
  const startups: string[] = [];
  if (single.length > 0) {
    try {
      cluster = await startCluster({ progress });
    } catch (error) {
      progress(`the cluster could not start: ${error instanceof Error ? error.message : String(error)}`);
      await stopAll().catch(() => undefined);
      process.exit(1);
    }
    results.push(...(await runDrills(cluster, single.map(drillByName), options.scale, progress)));
    await cluster.stop();
    startups.push(`cluster start-up ${(cluster.startupMs.total / 1000).toFixed(1)} s`);
  }
  // The two-region drills get a two-region cluster of their own (region a is a whole single-region cluster).
  for (const name of twoRegion) {
    let two: TwoRegionCluster;
    try {
      two = await startTwoRegions({ progress });
    } catch (error) {
      progress(`the two-region cluster could not start: ${error instanceof Error ? error.message : String(error)}`);
      await stopAll().catch(() => undefined);
      process.exit(1);
    }
    results.push(await runRegionDrill(two, drillByName(name), options.scale, progress));
    await two.stop();
    startups.push(`two-region cluster start-up ${(two.startupMs.total / 1000).toFixed(1)} s`);
  }
  await stopAll();
  progress(`done in ${((Date.now() - began) / 1000).toFixed(0)} s (${startups.join(", ")})`);
  if (options.report !== undefined) {
    const files = await writeDrillReport(options.report, results);
    progress(`report: ${files.join(", ")}`);
  }
  if (options.json) process.stdout.write(`${JSON.stringify(drillsDocument(results))}\n`);
  else if (options.markdown) process.stdout.write(formatMarkdownTable(results));
  else process.stdout.write(formatTable(results));
  process.exit(results.every((r) => r.passed) ? 0 : 1);
}

void main();
