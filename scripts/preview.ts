/**
 * Offline preview: `npm run preview -- --stack <name> [--json]`.
 *
 * Renders the real infra program under Pulumi's mock runtime with `Pulumi.<name>.yaml`, prints what
 * `pulumi up` would create, evaluates the policy pack over it and prints the HA scorecard.
 * Exit 0 when fine, 1 on a mandatory policy violation, 2 on bad arguments, bad config or an unknown stack.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { loadPolicyConfig, runPolicies } from "../policies/runner";
import { formatPolicies, formatTree, previewDocument } from "./preview/format";
import { renderStack } from "./preview/render";
import { PreviewInputError, listStacks, readStackFile } from "./preview/stack-file";

const USAGE = "usage: npm run preview -- --stack <name> [--json]";

interface Options {
  stack: string;
  json: boolean;
  root: string;
}

function parseOptions(argv: string[]): Options {
  const root = path.resolve(__dirname, "..");
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { stack: { type: "string" }, json: { type: "boolean", default: false }, help: { type: "boolean" } } });
  } catch (err) {
    throw new PreviewInputError(`${(err as Error).message}\n${USAGE}`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\nstacks: ${listStacks(root).join(", ")}\n`);
    process.exit(0);
  }
  if (!parsed.values.stack) throw new PreviewInputError(`--stack is required (stacks here: ${listStacks(root).join(", ")})\n${USAGE}`);
  return { stack: parsed.values.stack, json: parsed.values.json ?? false, root };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const stackFile = readStackFile(options.root, options.stack);
  const plan = await renderStack(stackFile, path.join(options.root, "infra", "index.ts"));
  const report = await runPolicies(plan.resources, loadPolicyConfig(options.stack));
  const doc = previewDocument(plan, report);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  } else {
    process.stdout.write(`${formatTree(doc, path.basename(stackFile.file))}\n${formatPolicies(report)}\n`);
  }
  return report.violations.some((v) => v.level === "mandatory") ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    const known = err instanceof PreviewInputError || err.name === "ConfigError";
    process.stderr.write(`preview: ${known ? err.message : (err.stack ?? String(err))}\n`);
    process.exit(2);
  },
);
