/**
 * Offline preview: `npm run preview -- --stack <name> [--json] [--diff <git-ref> | --against-stack <name>]`.
 *
 * Renders the real infra program under Pulumi's mock runtime with `Pulumi.<name>.yaml`, prints what
 * `pulumi up` would create, evaluates the policy pack over it and prints the HA scorecard. With `--diff` or
 * `--against-stack` it prints what changes between two plans instead, with replacement and data-loss warnings.
 * Exit 0 when fine, 1 on a mandatory policy violation (of the stack, or of the head side of a diff),
 * 2 on bad arguments, bad config, an unknown stack or revision, or a program that fails.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { loadPolicyConfig } from "../preview/policy-config";
import { runPolicies } from "../preview/runner";
import { diffPlans } from "../preview/diff";
import { diffDocument, formatDiff } from "../preview/diff-format";
import { formatChecklist } from "../preview/checklist";
import { formatPolicies, formatTree, previewDocument } from "../preview/format";
import { renderStack } from "../preview/render";
import { revisionSides, stackSides } from "../preview/sides";
import { PreviewInputError, listStacks, readStackFile } from "../preview/stack-file";
import { costDelta, estimateCost, formatCost } from "../preview/cost/estimate";
import { loadPrices } from "../preview/cost/prices";
import { diffComment, previewComment } from "../preview/markdown/pull-request-comment";

const USAGE = [
  "usage: npm run preview -- --stack <name> [--json]                     --stack defaults to prod when Pulumi.prod.yaml exists",
  "       npm run preview -- --stack <name> --diff <git-ref> [--json]          what the working tree changes against a revision",
  "       npm run preview -- --stack <name> --against-stack <other> [--json]   how <name> differs from <other>",
  "       --root <dir>: render the repository at <dir> (default: this one)",
  "       --format text|json|markdown: the output (--json is --format json); markdown is the pull-request comment",
].join("\n");

const DEFAULT_STACK = "prod";

const FORMATS = ["text", "json", "markdown"] as const;
type Format = (typeof FORMATS)[number];

interface Options {
  stack: string;
  format: Format;
  root: string;
  diff?: string;
  againstStack?: string;
}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        json: { type: "boolean", default: false },
        format: { type: "string" },
        diff: { type: "string" },
        "against-stack": { type: "string" },
        root: { type: "string" },
        help: { type: "boolean" },
      },
    });
  } catch (err) {
    throw new PreviewInputError(`${(err as Error).message}\n${USAGE}`);
  }
  const root = path.resolve(parsed.values.root ?? path.join(__dirname, ".."));
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\nstacks: ${listStacks(root).join(", ")}\n`);
    process.exit(0);
  }
  const stacks = listStacks(root);
  // The front door: `npm run preview` on a fresh clone shows the production plan.
  const stack = parsed.values.stack ?? (stacks.includes(DEFAULT_STACK) ? DEFAULT_STACK : undefined);
  if (!stack)
    throw new PreviewInputError(
      `--stack is required: there is no Pulumi.${DEFAULT_STACK}.yaml to default to (stacks here: ${stacks.join(", ") || "none"})\n${USAGE}`,
    );
  const { diff, "against-stack": againstStack } = parsed.values;
  if (diff !== undefined && againstStack !== undefined)
    throw new PreviewInputError(`--diff and --against-stack exclude each other\n${USAGE}`);
  const format = (parsed.values.format ?? (parsed.values.json ? "json" : "text")) as Format;
  if (!FORMATS.includes(format)) throw new PreviewInputError(`--format must be one of ${FORMATS.join(", ")}, got "${format}"\n${USAGE}`);
  if (parsed.values.json && format !== "json") throw new PreviewInputError(`--json and --format ${format} exclude each other\n${USAGE}`);
  return { stack, format, root, diff, againstStack };
}

/** `--diff` / `--against-stack`: render both sides, print the diff. */
async function compare(options: Options): Promise<number> {
  const [base, head] =
    options.diff !== undefined
      ? await revisionSides(options.root, options.stack, options.diff)
      : await stackSides(options.root, options.stack, options.againstStack!);
  const diff = diffPlans(base.doc, head.doc);
  // Both sides priced by this checkout's price table (a base revision may predate it).
  const prices = loadPrices();
  const cost = costDelta(estimateCost(base.doc.resources, prices), estimateCost(head.doc.resources, prices));
  const text = formatDiff(base, head, diff, cost);
  if (options.format === "json") process.stdout.write(`${JSON.stringify(diffDocument(base, head, diff, cost), null, 2)}\n`);
  else if (options.format === "markdown") {
    const title = `Offline preview diff: ${text.split("\n")[0]!.replace(/^GoMeet offline preview diff, /, "")}`;
    process.stdout.write(diffComment(title, base.doc, head.doc, diff.changes, diff.policies.introduced, cost, text));
  } else process.stdout.write(`${text}\n`);
  return head.doc.policies.violations.some((v) => v.level === "mandatory") ? 1 : 0;
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (options.diff !== undefined || options.againstStack !== undefined) return compare(options);
  const stackFile = readStackFile(options.root, options.stack);
  const plan = await renderStack(stackFile, path.join(options.root, "infra", "index.ts"));
  const report = await runPolicies(plan.resources, loadPolicyConfig(options.stack));
  const plain = previewDocument(plan, report);
  const doc = { ...plain, cost: estimateCost(plain.resources, loadPrices()) };
  const text = `${formatTree(doc, path.basename(stackFile.file))}\n${formatPolicies(report)}\n${formatCost(doc.cost)}\n${formatChecklist(doc.checklist ?? [])}\n`;
  if (options.format === "json") process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
  else if (options.format === "markdown") process.stdout.write(previewComment(`Offline preview: stack ${doc.stack}`, doc, doc.cost, text));
  else process.stdout.write(text);
  return report.violations.some((v) => v.level === "mandatory") ? 1 : 0;
}

/** Exits once everything written to stdout has been handed to the OS (a large --json document into a pipe). */
const exitAfterStdout = (code: number): void => void process.stdout.write("", () => process.exit(code));

main().then(
  (code) => exitAfterStdout(code),
  (err: Error) => {
    const known = err instanceof PreviewInputError || err.name === "ConfigError";
    process.stderr.write(`preview: ${known ? err.message : (err.stack ?? String(err))}\n`);
    process.exit(2);
  },
);
