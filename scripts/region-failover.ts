/**
 * `npm run region-failover -- --stack prod --to <region> [--dry-run] [--topology <file>] [--journal <file>]`
 *
 * Fails the stack over to its standby region with the DigitalOcean driver (app/src/failover/digitalocean-driver.ts):
 * fence, promote, switch-entry, restore, confirm (docs/runbooks.md, "Region failover"). What it acts on (ids, names,
 * URLs) is the stack's `failoverTopologyOutput`: from `--topology <file>` (the JSON of
 * `pulumi stack output failoverTopologyOutput --json --stack <stack>`), else from the Pulumi CLI. `--dry-run` prints every
 * step and request and sends nothing; without a topology it renders the stack offline (ids are then placeholders).
 * The API token is DIGITALOCEAN_TOKEN; GOMEET_CONFIRM_TOKEN (a user's token) adds a synthetic write to the confirm step.
 * Exit 0 done (or dry run), 1 a step failed (named; re-run to resume), 2 bad arguments or topology.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { DigitalOceanApi } from "../app/src/failover/digitalocean-api";
import { DigitalOceanDriver } from "../app/src/failover/digitalocean-driver";
import { parseTopology, type FailoverTopology } from "../app/src/failover/digitalocean-topology";
import { httpEntryProbe } from "../app/src/failover/entry-probe";
import { runFailover } from "../app/src/failover/failover";
import { FileJournal, MemoryJournal } from "../app/src/failover/journal";
import { renderStack } from "../preview/render";
import { readStackFile } from "../preview/stack-file";

const ROOT = path.resolve(__dirname, "..");
const USAGE =
  "usage: npm run region-failover -- --stack <name> --to <region> [--dry-run] [--topology <file>] [--journal <file>] [--api-url <url>]";

class UsageError extends Error {}

async function topologyOf(stack: string, file: string | undefined, dryRun: boolean): Promise<FailoverTopology> {
  if (file !== undefined) return parseTopology(fs.readFileSync(file, "utf8"), file);
  try {
    const text = execFileSync("pulumi", ["stack", "output", "failoverTopologyOutput", "--json", "--stack", stack], { encoding: "utf8" });
    return parseTopology(text, `pulumi stack output failoverTopologyOutput (stack ${stack})`);
  } catch (error) {
    if (!dryRun)
      throw new UsageError(
        `no topology: pass --topology <file> (pulumi stack output failoverTopologyOutput --json): ${(error as Error).message}`,
      );
  }
  // A dry run without Pulumi: the stack rendered offline, with the preview's placeholder ids.
  const plan = await renderStack(readStackFile(ROOT, stack), path.join(ROOT, "infra", "index.ts"));
  const output = plan.outputs.failoverTopologyOutput;
  if (output?.value === undefined) throw new UsageError(`stack ${stack} has no standby region (gomeet:standby): nothing to fail over to`);
  process.stdout.write(`(offline render of stack ${stack}: ids are the preview's placeholders)\n`);
  return parseTopology(JSON.stringify(output.value), `stack ${stack} (offline render)`);
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      stack: { type: "string", default: "prod" },
      to: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      topology: { type: "string" },
      journal: { type: "string" },
      "api-url": { type: "string", default: "https://api.digitalocean.com" },
    },
  });
  if (!values.to) throw new UsageError(`--to <region> is required\n${USAGE}`);
  const dryRun = values["dry-run"] === true;
  const topology = await topologyOf(values.stack!, values.topology, dryRun);
  const token = process.env.DIGITALOCEAN_TOKEN ?? (dryRun ? "dry-run" : "");
  if (!token) throw new UsageError("DIGITALOCEAN_TOKEN is not set");
  const requests: string[] = [];
  const api = new DigitalOceanApi({ baseUrl: values["api-url"]!, token, onRequest: (line) => requests.push(line) });
  const driver = new DigitalOceanDriver({ topology, api, entryProbe: httpEntryProbe({ token: process.env.GOMEET_CONFIRM_TOKEN }) });
  const from = topology.primary.region;
  const log = {
    info: (fields: object, message: string) => process.stdout.write(`${message} ${JSON.stringify(fields)}\n`),
    warn: (fields: object, message: string) => process.stderr.write(`warning: ${message} ${JSON.stringify(fields)}\n`),
    error: (fields: object, message: string) => process.stderr.write(`error: ${message} ${JSON.stringify(fields)}\n`),
  };
  if (dryRun) {
    const plan = driver.plan(from, values.to);
    process.stdout.write(`region failover ${from} -> ${values.to} (dry run: nothing is sent)\n`);
    plan.forEach((step, i) => {
      process.stdout.write(`${i + 1}. ${step.step}: ${step.description}\n`);
      for (const request of step.requests) process.stdout.write(`     ${request}\n`);
    });
    return 0;
  }
  const journal = values.journal ? new FileJournal(values.journal) : new MemoryJournal();
  try {
    await runFailover(driver, { from, to: values.to, log, journal });
    process.stdout.write(`region failover ${from} -> ${values.to}: done (${requests.length} API requests)\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`region-failover: ${(error as Error).message}\nre-run the same command to resume (every step is idempotent)\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`region-failover: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
